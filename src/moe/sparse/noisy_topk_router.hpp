#pragma once
// Noisy top-k gating (Shazeer et al. 2017, docs/methods.md#noisy-top-k-gating-and-balancing-losses). With Z = W_g X and N = W_noise X
// (E x T each; W_g, W_noise: E x d, both starting at zero):
//   H = Z + eps % softplus(N),  eps ~ N(0, 1) per entry, only in training (H = Z otherwise)
//   G = softmax(KeepTopK(H, k))  (entries outside the top k set to -inf before the softmax)
// The smooth load estimator (smooth_load_loss.hpp) differentiates through Z and N; Routing keeps Z, N,
// eps and H for it. Optional capacity factor as in softmax_topk_router.hpp.
#include "moe/sparse/linear_logits.hpp"
#include "moe/sparse/router.hpp"

namespace moe {

struct NoisyTopKOptions {
  arma::uword k = 2;
  double capacity_factor = 0.0;  // <= 0: dropless
};

class NoisyTopKRouter final : public Router {
 public:
  NoisyTopKRouter(arma::uword inputs, arma::uword experts, NoisyTopKOptions options);
  std::string kind() const override { return "noisy-topk"; }
  arma::uword inputs() const override { return Wg_.inputs(); }
  arma::uword experts() const override { return Wg_.experts(); }
  arma::uword k() const override { return options_.k; }
  // Shazeer's start is scale 0 (both zero); a nonzero scale draws both (used by the gradient tests).
  void init(Rng& rng, double scale) override;
  void collect(ParamList& params, const std::string& prefix) override;  // prefix + "W_g", prefix + "W_noise"
  Routing route(const arma::mat& X, const RouteContext& context) const override;
  arma::mat backward(const arma::mat& X, const Routing& routing, const RouterGrad& grad) override;

 private:
  LinearLogits Wg_, Wnoise_;
  NoisyTopKOptions options_;
};

}  // namespace moe
