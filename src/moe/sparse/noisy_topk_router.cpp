#include "moe/sparse/backend_router.hpp"
#include "moe/sparse/router_registry.hpp"
#include "moe/core/error.hpp"
#include "moe/backend/routing_plan.hpp"
#include "moe/sparse/token_noise.hpp"

namespace moe {

namespace {

// On the backend: H = L + eps softplus(W_noise X) in training (eps of this step's stream), L in
// evaluation; top-k of H, weights a softmax of H over the chosen; --w-load: the smooth load loss.
class BackendNoisyTopK final : public BackendRouter {
 public:
  explicit BackendNoisyTopK(const RouterSetup& s)
      : gate_(s, "W_g"), noise_(s, "W_noise"), k_(s.spec.top_k), w_load_(s.spec.w_load) {}
  std::size_t k() const override { return k_; }
  void init(Rng& rng, double scale) override {
    gate_.init(rng, scale);
    noise_.init(rng, scale);
  }
  void route(const Tensor& X, const BackendRouteContext& c, DevicePlan& plan) override {
    Backend& b = gate_.b;
    const std::size_t E = gate_.W.rows(), N = X.cols();
    gate_.forward(X);
    b.reshape(noise_.L, E, N);
    b.gemm(false, false, 1.0, noise_.W, X, 0.0, noise_.L);  // the noise logits W_noise X
    b.reshape(eps_, E, N);
    if (c.training) {
      const arma::mat draws =
          token_draws(arma::uword(E), arma::uword(N), c.noise, true, c.shard ? arma::uword(c.shard->offset()) : 0);
      if (N > 0) b.upload(eps_, draws.memptr());
    } else {
      b.fill(eps_, 0.0);
    }
    b.reshape(H_, E, N);
    b.noisy_logits(gate_.L, noise_.L, eps_, H_);
    b.reshape(PH_, E, N);
    b.softmax_columns(H_, PH_, nullptr);
    b.top_k(H_, nullptr, k_, plan.slot_expert);
    b.slot_weights(PH_, plan.slot_expert, true, plan.slot_weight);
  }
  const Tensor* logits() const override { return &gate_.L; }
  const Tensor* probs() const override { return &gate_.P; }
  const Tensor* lse() const override { return &gate_.lse; }
  // dH from the weights: dL = dH, dN = dH eps sigmoid(N); then the smooth load loss into both.
  void backward_weights(const DevicePlan& plan, const Tensor& dw, Tensor& dlogits, const RouterLossSink& sink,
                        const ShardSum* shard) override {
    Backend& b = gate_.b;
    b.fill(dlogits, 0.0);
    b.reshape(dN_, dlogits.rows(), dlogits.cols());
    b.fill(dN_, 0.0);
    b.slot_weights_backward(PH_, plan.slot_expert, true, dw, dlogits);
    b.noisy_logits_backward(noise_.L, eps_, dlogits, dN_);
    if (w_load_ > 0) {
      b.fill(sink.value, 0.0);
      b.smooth_load_loss(gate_.L, noise_.L, H_, eps_, k_, w_load_, sink.value, dlogits, dN_, shard);
      sink.record(1, w_load_);
    }
  }
  void backward_logits(const Tensor& X, const Tensor& dlogits, Tensor& dX) override {
    noise_.backward(X, dN_, dX);
    gate_.backward(X, dlogits, dX);
  }

 private:
  RouterLogits gate_, noise_;  // W_g and W_noise; noise_.L holds the noise logits
  std::size_t k_;
  double w_load_;
  Tensor eps_, H_, PH_, dN_;  // draws, noisy logits, their softmax, dL/d noise logits (E x T)
};

const RouterRegistration registered{{
    .name = "noisy-topk",
    .help = "top-k of W x + noise scaled by softplus(W_noise x), weights a softmax over the chosen (Shazeer et al. "
            "2017); weights start at 0; --w-load adds the smooth load loss",
    .traits = {.zero_init = true},
    .flags = {"top-k", "capacity-factor", "w-load"},
    .validate = require_top_k_within,
    .make = [](const RouterSetup& s) -> std::unique_ptr<BackendRouter> {
      return std::make_unique<BackendNoisyTopK>(s);
    },
}};

}  // namespace

}  // namespace moe
