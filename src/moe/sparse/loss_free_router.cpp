#include "moe/sparse/loss_free_router.hpp"

#include "moe/sparse/backend_router.hpp"

#include "moe/core/math.hpp"
#include "moe/sparse/router_registry.hpp"
#include "moe/sparse/softmax_topk_router.hpp"
#include "moe/sparse/softmax_weights.hpp"

namespace moe {

LossFreeRouter::LossFreeRouter(arma::uword inputs, arma::uword experts, LossFreeOptions options)
    : W_(inputs, experts), options_(options), bias_(experts, options.update_rate) {
  require(experts >= 1, "loss-free router: needs at least one expert");
  require(options.k >= 1 && options.k <= experts,
          "loss-free router: k = " + std::to_string(options.k) + " must be between 1 and the " +
              std::to_string(experts) + " experts");
}

void LossFreeRouter::init(Rng& rng, double scale) {
  W_.init(rng, scale);
  bias_.reset();
}

Routing LossFreeRouter::route(const arma::mat& X, const RouteContext& context) const {
  Routing r;
  const std::size_t T = X.n_cols, E = experts(), k = options_.k;
  r.logits = W_.logits(X);
  r.probs = column_softmax(r.logits, false).prob;
  std::vector<std::int32_t> chosen = top_k_per_token(bias_.biased(r.probs), k);  // the bias: selection only
  r.norm_expert = chosen;
  r.renormalized = options_.renormalize;
  std::vector<double> w = softmax_slot_weights(r.probs, chosen, r.norm_expert, k, r.renormalized);
  r.plan = plan_routes(context, T, E, k, std::move(chosen), std::move(w), options_.capacity_factor);
  return r;
}

arma::mat LossFreeRouter::backward(const arma::mat& X, const Routing& r, const RouterGrad& grad) {
  arma::mat dZ = softmax_slot_weights_backward(r.probs, r.plan.slot_expert, r.norm_expert, r.plan.k, r.renormalized,
                                               grad.dweight);
  if (!grad.dlogits.is_empty()) dZ += grad.dlogits;
  return W_.backward(X, dZ);
}

namespace {

// On the backend: top-k of the softmax plus the selection bias (selection only), weights from the softmax.
class BackendLossFree final : public BackendRouter {
 public:
  explicit BackendLossFree(const RouterSetup& s)
      : logits_(s, "W"), bias_(s), k_(s.spec.top_k), renormalize_(s.spec.renormalize) {}
  std::size_t k() const override { return k_; }
  void init(Rng& rng, double scale) override { logits_.init(rng, scale); }
  void route(const Tensor& X, const BackendRouteContext&, DevicePlan& plan) override {
    logits_.forward(X);
    logits_.b.top_k(logits_.P, &bias_.bias, k_, plan.slot_expert);
    logits_.b.slot_weights(logits_.P, plan.slot_expert, renormalize_, plan.slot_weight);
  }
  const Tensor* logits() const override { return &logits_.L; }
  const Tensor* probs() const override { return &logits_.P; }
  const Tensor* lse() const override { return &logits_.lse; }
  void backward_logits(const Tensor& X, const Tensor& dlogits, Tensor& dX) override { logits_.backward(X, dlogits, dX); }
  void backward_weights(const DevicePlan& plan, const Tensor& dw, Tensor& dlogits, const RouterLossSink&,
                        const ShardSum*) override {
    logits_.b.fill(dlogits, 0.0);
    logits_.b.slot_weights_backward(logits_.P, plan.slot_expert, renormalize_, dw, dlogits);
  }
  void collect_state(ParamList& params) override { bias_.collect_state(params); }
  void end_step(const DevicePlan& plan, const ShardSum* shard) override { bias_.end_step(plan, shard); }
  void state_to_host() override { bias_.to_host(); }
  void state_from_host() override { bias_.from_host(); }
  bool state_changed() const override { return bias_.changed(); }

 private:
  RouterLogits logits_;
  SelectionBias bias_;
  std::size_t k_;
  bool renormalize_;
};

const RouterRegistration registered{{
    .name = "loss-free",
    .help = "softmax top-k chosen on probability + a per-expert bias that moves against the load after each step "
            "(Wang et al. 2024); no balancing loss",
    .traits = {.keeps_step_state = true},
    .flags = {"top-k", "capacity-factor", "no-renormalize", "bias-rate"},
    .validate = require_top_k_within,
    .make = [](const SparseLayerSpec& s, arma::uword inputs, arma::uword experts) -> std::unique_ptr<Router> {
      return std::make_unique<LossFreeRouter>(inputs, experts,
                                              LossFreeOptions{s.top_k, s.renormalize, s.bias_rate, s.capacity_factor});
    },
    .make_on_backend = [](const RouterSetup& s) -> std::unique_ptr<BackendRouter> {
      return std::make_unique<BackendLossFree>(s);
    },
}};
}  // namespace

}  // namespace moe
