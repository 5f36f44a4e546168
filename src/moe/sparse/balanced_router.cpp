#include "moe/sparse/balanced_router.hpp"

#include "moe/sparse/backend_router.hpp"

#include "moe/backend/auction.hpp"
#include "moe/sparse/softmax_topk_router.hpp"
#include "moe/sparse/token_noise.hpp"
#include "moe/sparse/router_registry.hpp"

namespace moe {

BalancedRouter::BalancedRouter(arma::uword inputs, arma::uword experts, BalancedOptions options)
    : W_(inputs, experts), options_(options) {
  require(experts >= 1, "balanced router: needs at least one expert");
  require(options.eps > 0.0, "balanced router: the auction epsilon must be positive");
}

Routing BalancedRouter::route(const arma::mat& X, const RouteContext& context) const {
  require_whole_batch(context, "balanced");
  Routing r;
  const std::size_t T = X.n_cols, E = experts();
  r.logits = W_.logits(X);
  const std::size_t C = expert_capacity(T, E, 1, 1.0);
  std::vector<std::int32_t> chosen =
      context.training && T > 0 ? auction_assignment(r.logits, C, options_.eps) : top_k_per_token(r.logits, 1);
  std::vector<double> w(T);
  for (std::size_t t = 0; t < T; ++t) w[t] = sigmoid(r.logits(arma::uword(chosen[t]), t));
  r.norm_expert.assign(T, -1);
  r.plan = make_plan(T, E, 1, std::move(chosen), std::move(w), context.training ? C : 0);
  return r;
}

arma::mat BalancedRouter::backward(const arma::mat& X, const Routing& r, const RouterGrad& grad) {
  arma::mat dZ(arma::size(r.logits), arma::fill::zeros);
  if (!grad.dweight.is_empty())
    for (std::size_t t = 0; t < r.plan.tokens; ++t) {
      const auto e = arma::uword(r.plan.slot_expert[t]);
      const double s = r.plan.slot_weight[t];  // sigmoid(Z(e, t))
      dZ(e, t) = grad.dweight[t] * s * (1.0 - s);
    }
  if (!grad.dlogits.is_empty()) dZ += grad.dlogits;
  return W_.backward(X, dZ);
}

namespace {

// On the backend: in training a balanced assignment of the batch (capacity T / E each), in evaluation the
// greedy top 1; weight the sigmoid of the chosen logit.
class BackendBalanced final : public BackendRouter {
 public:
  explicit BackendBalanced(const RouterSetup& s) : logits_(s, "W"), experts_(s.experts) {}
  std::size_t k() const override { return 1; }
  void init(Rng& rng, double scale) override { logits_.init(rng, scale); }
  void route(const Tensor& X, const BackendRouteContext& c, DevicePlan& plan) override {
    Backend& b = logits_.b;
    const std::size_t N = X.cols();
    logits_.forward(X);
    if (c.training && N > 0) {
      plan.capacity = expert_capacity(N, experts_, 1, 1.0);
      b.balanced_assignment(logits_.L, plan.capacity, 1e-4, plan.slot_expert);
    } else {
      plan.capacity = 0;
      b.top_k(logits_.L, nullptr, 1, plan.slot_expert);
    }
    b.sigmoid_slot_weights(logits_.L, plan.slot_expert, false, plan.slot_weight);
  }
  const Tensor* logits() const override { return &logits_.L; }
  const Tensor* probs() const override { return &logits_.P; }
  const Tensor* lse() const override { return &logits_.lse; }
  void backward_logits(const Tensor& X, const Tensor& dlogits, Tensor& dX) override { logits_.backward(X, dlogits, dX); }
  void backward_weights(const DevicePlan& plan, const Tensor& dw, Tensor& dlogits, const RouterLossSink&,
                        const ShardSum*) override {
    logits_.b.fill(dlogits, 0.0);
    logits_.b.sigmoid_slot_weights_backward(logits_.L, plan.slot_expert, false, dw, dlogits);
  }

 private:
  RouterLogits logits_;
  std::size_t experts_;
};

const RouterRegistration registered{{
    .name = "balanced",
    .help = "top-1 by a balanced linear assignment of the batch's tokens to the experts (BASE layers, Lewis et al. "
            "2021); greedy top-1 in evaluation",
    .traits = {.batch_wide_in_training = true},
    .flags = {},
    .validate = {},
    .make = [](const SparseLayerSpec&, arma::uword inputs, arma::uword experts) -> std::unique_ptr<Router> {
      return std::make_unique<BalancedRouter>(inputs, experts);
    },
    .make_on_backend = [](const RouterSetup& s) -> std::unique_ptr<BackendRouter> {
      return std::make_unique<BackendBalanced>(s);
    },
}};
}  // namespace

}  // namespace moe
