#pragma once
// GShard top-2 router (Lepikhin et al. 2020, docs/methods.md#switch-gshard-capacity-and-the-z-loss). Z = W X (E x T), P = softmax(Z).
// First expert e1 = argmax, second e2 = argmax after removing e1 (ties to the lower id); gates
// renormalised w1 = g1 / (g1 + g2), w2 = g2 / (g1 + g2). Random routing: in training the second expert is
// kept with probability min(1, w2 / threshold) (threshold 0.5: GShard's "2 g2"); when it is not kept its
// slot is empty but w1 stays g1 / (g1 + g2). Outside training both are kept. Capacity
// ceil(2 T / E * c), first choices placed before second ones; c <= 0: dropless. Needs E >= 2.
#include "moe/sparse/linear_logits.hpp"
#include "moe/sparse/router.hpp"

namespace moe {

struct GShardOptions {
  double threshold = 0.5;        // keep probability of the second expert: min(1, w2 / threshold)
  double capacity_factor = 1.0;  // <= 0: dropless
};

class GShardRouter final : public Router {
 public:
  GShardRouter(arma::uword inputs, arma::uword experts, GShardOptions options = {});
  std::string kind() const override { return "gshard"; }
  arma::uword inputs() const override { return W_.inputs(); }
  arma::uword experts() const override { return W_.experts(); }
  arma::uword k() const override { return 2; }
  void init(Rng& rng, double scale) override { W_.init(rng, scale); }
  void collect(ParamList& params, const std::string& prefix) override { W_.collect(params, prefix + "W"); }
  Routing route(const arma::mat& X, const RouteContext& context) const override;
  arma::mat backward(const arma::mat& X, const Routing& routing, const RouterGrad& grad) override;

 private:
  LinearLogits W_;
  GShardOptions options_;
};

}  // namespace moe
