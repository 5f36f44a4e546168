#include "moe/sparse/backend_router.hpp"
#include "moe/sparse/router_registry.hpp"
#include "moe/core/error.hpp"
#include "moe/backend/routing_plan.hpp"

namespace moe {

namespace {

// On the backend: top-k of sigmoid(L) plus the selection bias, weights the chosen sigmoids (renormalised).
class BackendSigmoidTopK final : public BackendRouter {
 public:
  explicit BackendSigmoidTopK(const RouterSetup& s)
      : logits_(s, "W"), bias_(s), k_(s.spec.top_k), renormalize_(s.spec.renormalize) {}
  std::size_t k() const override { return k_; }
  void init(Rng& rng, double scale) override {
    logits_.init(rng, scale);
    bias_.reset();
  }
  void route(const Tensor& X, const BackendRouteContext&, DevicePlan& plan) override {
    Backend& b = logits_.b;
    logits_.forward(X);  // the softmax and lse too: the z-loss
    b.reshape(S_, logits_.L.rows(), X.cols());
    b.sigmoid(logits_.L, S_);
    b.top_k(S_, &bias_.bias, k_, plan.slot_expert);
    b.sigmoid_slot_weights(logits_.L, plan.slot_expert, renormalize_, plan.slot_weight);
  }
  const Tensor* logits() const override { return &logits_.L; }
  const Tensor* probs() const override { return &logits_.P; }
  const Tensor* lse() const override { return &logits_.lse; }
  void backward_logits(const Tensor& X, const Tensor& dlogits, Tensor& dX) override { logits_.backward(X, dlogits, dX); }
  void backward_weights(const DevicePlan& plan, const Tensor& dw, Tensor& dlogits, const RouterLossSink&,
                        const ShardSum*) override {
    logits_.b.fill(dlogits, 0.0);
    logits_.b.sigmoid_slot_weights_backward(logits_.L, plan.slot_expert, renormalize_, dw, dlogits);
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
  Tensor S_;  // E x T sigmoid scores
};

const RouterRegistration registered{{
    .name = "sigmoid-topk",
    .help = "one sigmoid score per expert, top-k on score + a loss-free balancing bias (--bias-rate, 0: none), "
            "weights the chosen scores normalised to sum 1 (DeepSeek-V3)",
    .traits = {.keeps_step_state = true},
    .flags = {"top-k", "capacity-factor", "no-renormalize", "bias-rate"},
    .validate = require_top_k_within,
    .make = [](const RouterSetup& s) -> std::unique_ptr<BackendRouter> {
      return std::make_unique<BackendSigmoidTopK>(s);
    },
}};

}  // namespace

}  // namespace moe
