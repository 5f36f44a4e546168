#include "moe/sparse/backend_router.hpp"
#include "moe/sparse/router_registry.hpp"
#include "moe/core/error.hpp"
#include "moe/backend/routing_plan.hpp"

namespace moe {

namespace {

// On the backend: each expert takes its ceil(c T / E) best tokens of the batch by softmax score.
class BackendExpertChoice final : public BackendRouter {
 public:
  explicit BackendExpertChoice(const RouterSetup& s)
      : logits_(s, "W"), k_(s.spec.top_k),
        c_(s.spec.capacity_factor > 0.0 ? s.spec.capacity_factor : double(s.spec.top_k)), experts_(s.experts) {}
  std::size_t k() const override { return k_; }
  void init(Rng& rng, double scale) override { logits_.init(rng, scale); }
  void route(const Tensor& X, const BackendRouteContext&, DevicePlan& plan) override {
    const std::size_t N = X.cols();
    logits_.forward(X);
    plan.capacity = std::min(N, expert_capacity(N, experts_, 1, c_));  // in training and evaluation alike
    logits_.b.expert_choice(logits_.P, plan.capacity, plan);
  }
  const Tensor* logits() const override { return &logits_.L; }
  const Tensor* probs() const override { return &logits_.P; }
  const Tensor* lse() const override { return &logits_.lse; }
  void backward_logits(const Tensor& X, const Tensor& dlogits, Tensor& dX) override { logits_.backward(X, dlogits, dX); }
  void backward_weights(const DevicePlan& plan, const Tensor& dw, Tensor& dlogits, const RouterLossSink&,
                        const ShardSum*) override {
    logits_.b.fill(dlogits, 0.0);
    logits_.b.slot_weights_backward(logits_.P, plan.slot_expert, false, dw, dlogits);
  }

 private:
  RouterLogits logits_;
  std::size_t k_;
  double c_;
  std::size_t experts_;
};

const RouterRegistration registered{{
    .name = "expert-choice",
    .help = "each expert takes its ceil(c T / E) highest-scoring tokens of the batch (Zhou et al. 2022); c = "
            "--capacity-factor, or --top-k when that is <= 0",
    .traits = {.batch_wide_in_training = true, .batch_wide_in_evaluation = true},
    .flags = {"top-k", "capacity-factor"},
    .validate =
        [](const SparseLayerSpec& s, arma::uword) {
          require(s.capacity_factor > 0.0 || s.top_k >= 1,
                  "--router expert-choice takes c = --capacity-factor, or --top-k when that is <= 0: one must be positive");
        },
    .make = [](const RouterSetup& s) -> std::unique_ptr<BackendRouter> {
      return std::make_unique<BackendExpertChoice>(s);
    },
}};

}  // namespace

}  // namespace moe
