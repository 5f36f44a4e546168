#include "moe/sparse/backend_router.hpp"
#include "moe/sparse/router_registry.hpp"
#include "moe/core/error.hpp"
#include "moe/backend/routing_plan.hpp"

namespace moe {

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
    .make = [](const RouterSetup& s) -> std::unique_ptr<BackendRouter> {
      return std::make_unique<BackendHash>(s);
    },
}};

}  // namespace

}  // namespace moe
