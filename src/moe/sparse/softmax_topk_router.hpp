#pragma once
// Softmax top-k router (any k <= E): Z = W X (E x T); each token takes its k largest logits (ties to the
// lower expert id); weights softmax(Z) of the chosen experts, renormalised over them (= softmax of
// KeepTopK(Z, k), the Mixtral form) or not (the raw softmax probability, as Switch uses for k = 1).
// Capacity factor c > 0: each expert takes at most ceil(k T / E * c) slots, first choices first, and the
// rest are dropped (they pass through the layer's residual); c <= 0: dropless.
#include "moe/sparse/linear_logits.hpp"
#include "moe/sparse/backend_router.hpp"
#include "moe/sparse/router.hpp"

namespace moe {

struct SoftmaxTopKOptions {
  arma::uword k = 2;
  bool renormalize = true;
  double capacity_factor = 0.0;  // <= 0: dropless
};

class SoftmaxTopKRouter : public Router {
 public:
  SoftmaxTopKRouter(arma::uword inputs, arma::uword experts, SoftmaxTopKOptions options);
  std::string kind() const override { return "topk"; }
  arma::uword inputs() const override { return W_.inputs(); }
  arma::uword experts() const override { return W_.experts(); }
  arma::uword k() const override { return options_.k; }
  void init(Rng& rng, double scale) override { W_.init(rng, scale); }
  void collect(ParamList& params, const std::string& prefix) override { W_.collect(params, prefix + "W"); }
  Routing route(const arma::mat& X, const RouteContext& context) const override;
  arma::mat backward(const arma::mat& X, const Routing& routing, const RouterGrad& grad) override;
  LinearLogits& linear() { return W_; }

 private:
  LinearLogits W_;
  SoftmaxTopKOptions options_;
};

// Per token, the k largest entries of Z (E x T), best first: T*k expert ids, token-major. Columns are
// independent (OpenMP over tokens), so the result does not depend on the thread count.
std::vector<std::int32_t> top_k_per_token(const arma::mat& Z, std::size_t k);

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
