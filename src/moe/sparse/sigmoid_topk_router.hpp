#pragma once
// Sigmoid top-k router (the gating of DeepSeek-V3; docs/methods.md): one independent score per expert,
// s = sigmoid(W X) (E x T), instead of a softmax over the experts. Each token takes the k experts with
// the largest s_e + b_e, where b is the loss-free balancing bias (moe/sparse/expert_bias.hpp; updated
// after every training step at rate u = --bias-rate, 0 keeps it at 0); the weights use the scores alone,
// normalised over the chosen experts, w_j = s_j / sum_chosen s (or the raw s_j). Ties go to the lower
// expert id; capacity as for softmax top-k. Routing::probs holds s; Routing::logits holds W X, so the
// Switch loss and the z-loss act on the logits as for the softmax routers.
#include "moe/sparse/expert_bias.hpp"
#include "moe/sparse/linear_logits.hpp"
#include "moe/sparse/router.hpp"

namespace moe {

struct SigmoidTopKOptions {
  arma::uword k = 2;
  bool renormalize = true;
  double bias_rate = 1e-3;       // u of the bias update; 0: no bias
  double capacity_factor = 0.0;  // <= 0: dropless
};

class SigmoidTopKRouter final : public Router {
 public:
  SigmoidTopKRouter(arma::uword inputs, arma::uword experts, SigmoidTopKOptions options);
  std::string kind() const override { return "sigmoid-topk"; }
  arma::uword inputs() const override { return W_.inputs(); }
  arma::uword experts() const override { return W_.experts(); }
  arma::uword k() const override { return options_.k; }
  void init(Rng& rng, double scale) override;  // also resets the bias to 0
  void collect(ParamList& params, const std::string& prefix) override { W_.collect(params, prefix + "W"); }
  Routing route(const arma::mat& X, const RouteContext& context) const override;
  arma::mat backward(const arma::mat& X, const Routing& routing, const RouterGrad& grad) override;
  void collect_state(ParamList& params, const std::string& prefix) override { bias_.collect(params, prefix + "bias"); }
  void end_step(const RoutingPlan& plan, const TokenShard* shard) override;
  const arma::vec& bias() const { return bias_.values(); }

 private:
  LinearLogits W_;
  SigmoidTopKOptions options_;
  ExpertBias bias_;
};

}  // namespace moe
