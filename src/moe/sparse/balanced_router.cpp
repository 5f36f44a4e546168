#include "moe/sparse/backend_router.hpp"
#include "moe/sparse/router_registry.hpp"
#include "moe/core/error.hpp"
#include "moe/backend/routing_plan.hpp"

namespace moe {

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
    .make = [](const RouterSetup& s) -> std::unique_ptr<BackendRouter> {
      return std::make_unique<BackendBalanced>(s);
    },
}};

}  // namespace

}  // namespace moe
