#pragma once
// Softmax top-k routing on the backend: top-k of the logits W x, weights from their softmax, renormalised
// over the chosen (Mixtral) or raw; --router topk, and Switch (k = 1, the raw probability).
#include "moe/sparse/backend_router.hpp"

namespace moe {

// The backend version (backend_router.hpp), also Switch's (k = 1, raw probability).
class BackendSoftmaxTopK final : public BackendRouter {
 public:
  BackendSoftmaxTopK(const RouterSetup& setup, std::size_t k, bool renormalize);
  std::size_t k() const override { return k_; }
  void init(Rng& rng, double scale) override { logits_.init(rng, scale); }
  void route(const Tensor& X, const BackendRouteContext& context, DevicePlan& plan) override;
  const Tensor* logits() const override { return &logits_.L; }
  const Tensor* probs() const override { return &logits_.P; }
  const Tensor* lse() const override { return &logits_.lse; }
  void backward_weights(const DevicePlan& plan, const Tensor& dw, Tensor& dlogits, const RouterLossSink& sink,
                        const ShardSum* shard) override;
  void backward_logits(const Tensor& X, const Tensor& dlogits, Tensor& dX) override { logits_.backward(X, dlogits, dX); }

 private:
  RouterLogits logits_;
  std::size_t k_;
  bool renormalize_;
};

}  // namespace moe
