#include "moe/sparse/hash_router.hpp"

#include "moe/sparse/backend_router.hpp"

#include <bit>

#include "moe/backend/scalar_functions.hpp"
#include "moe/core/error.hpp"
#include "moe/sparse/router_registry.hpp"

namespace moe {

HashRouter::HashRouter(arma::uword inputs, arma::uword experts, HashOptions options)
    : inputs_(inputs), experts_(experts), options_(options) {
  require(experts >= 1, "hash router: needs at least one expert");
  require(options.feature < inputs || inputs == 0, "hash router: feature index beyond the token's features");
}

std::uint64_t HashRouter::hash(std::uint64_t z) { return mix_token_id(z); }

Routing HashRouter::route(const arma::mat& X, const RouteContext& context) const {
  const std::size_t T = X.n_cols;
  require(X.n_rows == inputs_, "hash router: tokens have " + std::to_string(X.n_rows) + " features, expected " +
                                   std::to_string(inputs_));
  const bool by_id = !context.token_ids.empty();
  require(!by_id || context.token_ids.size() == T, "hash router: token ids and tokens differ in number");
  require(by_id || options_.feature < X.n_rows, "hash router: no token ids and no feature to hash");
  std::vector<std::int32_t> chosen(T);
  for (std::size_t t = 0; t < T; ++t) {
    // +0.0 turns -0.0 into 0.0 so that equal values hash alike.
    const std::uint64_t id = by_id ? context.token_ids[t] : std::bit_cast<std::uint64_t>(X(options_.feature, t) + 0.0);
    chosen[t] = std::int32_t(hash(id) % experts_);
  }
  Routing r;
  r.norm_expert.assign(T, -1);
  r.plan = plan_routes(context, T, experts_, 1, std::move(chosen), std::vector<double>(T, 1.0),
                       options_.capacity_factor);
  return r;
}

namespace {

// On the backend: each token's expert from its id's hash, weight 1; no parameters, no logits.
class BackendHash final : public BackendRouter {
 public:
  explicit BackendHash(const RouterSetup& s) : b_(s.params.backend()), experts_(s.experts) {}
  std::size_t k() const override { return 1; }
  void init(Rng&, double) override {}
  void route(const Tensor& X, const BackendRouteContext& c, DevicePlan& plan) override {
    require(c.token_ids && c.token_ids->rows() == X.cols(),
            "hash routing: the layer was given no token id for each of its " + std::to_string(X.cols()) + " tokens");
    b_.hash_experts(*c.token_ids, experts_, plan.slot_expert);
    b_.fill(plan.slot_weight, 1.0);
  }
  void backward_weights(const DevicePlan&, const Tensor&, Tensor&, const RouterLossSink&, const ShardSum*) override {}
  void backward_logits(const Tensor&, const Tensor&, Tensor&) override {}

 private:
  Backend& b_;
  std::size_t experts_;
};

const RouterRegistration registered{{
    .name = "hash",
    .help = "a fixed hash of each token's id picks its expert, weight 1, no parameters (Roller et al. 2021)",
    .traits = {.needs_token_ids = true, .has_logits = false},
    .flags = {"capacity-factor"},
    .validate = {},
    .make = [](const SparseLayerSpec& s, arma::uword inputs, arma::uword experts) -> std::unique_ptr<Router> {
      return std::make_unique<HashRouter>(inputs, experts, HashOptions{0, s.capacity_factor});
    },
    .make_on_backend = [](const RouterSetup& s) -> std::unique_ptr<BackendRouter> {
      return std::make_unique<BackendHash>(s);
    },
}};
}  // namespace

}  // namespace moe
