#pragma once
// Loss-free load balancing (Wang et al. 2024, PAPERS.md section 8): a softmax top-k router whose
// selection uses the scores plus a per-expert bias, s_i + b_i, while the weights use the scores alone,
// so the bias steers tokens without a gradient or an auxiliary loss. P = softmax(W X) (E x T); the
// weights are P of the chosen experts, renormalised over them or not. After each training step the
// caller applies update_bias(plan): b_i += u * sign(mean load - load_i), u = 1e-3 by default.
// The bias is state, not a trainable parameter: it is not in collect(); read it with bias().
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
  // b_i += u * sign(mean load - load_i), load = slots each expert was routed (before capacity drops).
  // With a shard (expert parallelism), the load of the whole batch (collective).
  void update_bias(const RoutingPlan& plan, const TokenShard* shard = nullptr);
  const arma::vec& bias() const { return bias_; }
  void set_bias(const arma::vec& b);
  arma::vec& bias_state() { return bias_; }  // for save and load (ParamList state, not trained)

 private:
  LinearLogits W_;
  LossFreeOptions options_;
  arma::vec bias_;  // E
};

}  // namespace moe
