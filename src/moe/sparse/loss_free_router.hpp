#pragma once
// Loss-free load balancing (Wang et al. 2024; docs/methods.md): a softmax top-k router whose selection
// uses the scores plus a per-expert bias, s_i + b_i, while the weights use the scores alone, so the bias
// steers tokens without a gradient or an auxiliary loss. P = softmax(W X) (E x T); the weights are P of
// the chosen experts, renormalised over them or not. After each training step end_step applies
// b_i += u * sign(mean load - load_i), u = 1e-3 by default (moe/sparse/expert_bias.hpp).
#include "moe/sparse/expert_bias.hpp"
#include "moe/sparse/linear_logits.hpp"
#include "moe/sparse/router.hpp"

namespace moe {

struct LossFreeOptions {
  arma::uword k = 2;
  bool renormalize = false;
  double update_rate = 1e-3;     // u
  double capacity_factor = 0.0;  // <= 0: dropless
};

class LossFreeRouter final : public Router {
 public:
  LossFreeRouter(arma::uword inputs, arma::uword experts, LossFreeOptions options);
  std::string kind() const override { return "loss-free"; }
  arma::uword inputs() const override { return W_.inputs(); }
  arma::uword experts() const override { return W_.experts(); }
  arma::uword k() const override { return options_.k; }
  void init(Rng& rng, double scale) override;  // also resets the bias to 0
  void collect(ParamList& params, const std::string& prefix) override { W_.collect(params, prefix + "W"); }
  Routing route(const arma::mat& X, const RouteContext& context) const override;
  arma::mat backward(const arma::mat& X, const Routing& routing, const RouterGrad& grad) override;
  void collect_state(ParamList& params, const std::string& prefix) override { bias_.collect(params, prefix + "bias"); }
  void end_step(const RoutingPlan& plan, const TokenShard* shard) override { bias_.update(plan, shard, kind()); }
  const arma::vec& bias() const { return bias_.values(); }
  void set_bias(const arma::vec& b) { bias_.set(b, kind()); }

 private:
  LinearLogits W_;
  LossFreeOptions options_;
  ExpertBias bias_;
};

}  // namespace moe
