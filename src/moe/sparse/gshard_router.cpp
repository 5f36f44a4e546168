#include "moe/sparse/backend_router.hpp"
#include "moe/sparse/router_registry.hpp"
#include "moe/core/error.hpp"
#include "moe/backend/routing_plan.hpp"
#include "moe/sparse/token_noise.hpp"

namespace moe {

namespace {

// On the backend: the top 2, weights normalised over both; in training the second is kept at random.
class BackendGShard final : public BackendRouter {
 public:
  explicit BackendGShard(const RouterSetup& s) : logits_(s, "W"), threshold_(s.spec.gshard_threshold) {}
  std::size_t k() const override { return 2; }
  void init(Rng& rng, double scale) override { logits_.init(rng, scale); }
  void route(const Tensor& X, const BackendRouteContext& c, DevicePlan& plan) override {
    Backend& b = logits_.b;
    const std::size_t N = X.cols();
    logits_.forward(X);
    b.reshape(top2_, 2, N, DType::i32);
    b.top_k(logits_.L, nullptr, 2, top2_);
    b.copy(top2_, plan.slot_expert);
    b.slot_weights(logits_.P, top2_, true, plan.slot_weight);
    if (!c.training) return;
    const arma::mat draws = token_draws(1, arma::uword(N), c.noise, false, c.shard ? arma::uword(c.shard->offset()) : 0);
    b.reshape(u_, 1, N);
    if (N > 0) b.upload(u_, draws.memptr());
    b.random_second_choice(logits_.P, u_, threshold_, plan.slot_expert, plan.slot_weight);
  }
  const Tensor* logits() const override { return &logits_.L; }
  const Tensor* probs() const override { return &logits_.P; }
  const Tensor* lse() const override { return &logits_.lse; }
  void backward_logits(const Tensor& X, const Tensor& dlogits, Tensor& dX) override { logits_.backward(X, dlogits, dX); }
  void backward_weights(const DevicePlan&, const Tensor& dw, Tensor& dlogits, const RouterLossSink&,
                        const ShardSum*) override {
    logits_.b.fill(dlogits, 0.0);
    logits_.b.slot_weights_backward(logits_.P, top2_, true, dw, dlogits);  // over both of the top 2, kept or not
  }

 private:
  RouterLogits logits_;
  double threshold_;
  Tensor top2_, u_;  // each token's top 2 before the random drop; the draws
};

const RouterRegistration registered{{
    .name = "gshard",
    .help = "top-2: the best expert always, the second kept at random with probability min(1, w2 / threshold) "
            "(Lepikhin et al. 2020)",
    .traits = {},
    .flags = {"capacity-factor", "gshard-threshold"},
    .validate = [](const SparseLayerSpec&, arma::uword experts) { require(experts >= 2, "--router gshard needs at least 2 experts"); },
    .make = [](const RouterSetup& s) -> std::unique_ptr<BackendRouter> {
      return std::make_unique<BackendGShard>(s);
    },
}};

}  // namespace

}  // namespace moe
