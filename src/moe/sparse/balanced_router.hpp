#pragma once
// Balanced-assignment routing (BASE layers, Lewis et al. 2021; docs/methods.md#other-routers). Z = W X (E x T);
// in training each token gets one expert by solving the linear assignment that maximises sum_t
// Z(e_t, t) with every expert taking at most C = ceil(T / E) tokens (auction.hpp), so the load is
// balanced by construction and nothing is dropped; outside training each token takes its argmax (BASE's
// greedy test-time routing). The combine weight is sigmoid(Z(e_t, t)), which carries the router's
// gradient (the assignment itself is piecewise constant).
#include "moe/sparse/linear_logits.hpp"
#include "moe/sparse/router.hpp"

namespace moe {

struct BalancedOptions {
  double eps = 1e-4;  // auction precision: the assignment is within E * C * eps of the optimum
};

class BalancedRouter final : public Router {
 public:
  BalancedRouter(arma::uword inputs, arma::uword experts, BalancedOptions options = {});
  std::string kind() const override { return "balanced"; }
  arma::uword inputs() const override { return W_.inputs(); }
  arma::uword experts() const override { return W_.experts(); }
  arma::uword k() const override { return 1; }
  void init(Rng& rng, double scale) override { W_.init(rng, scale); }
  void collect(ParamList& params, const std::string& prefix) override { W_.collect(params, prefix + "W"); }
  Routing route(const arma::mat& X, const RouteContext& context) const override;
  arma::mat backward(const arma::mat& X, const Routing& routing, const RouterGrad& grad) override;

 private:
  LinearLogits W_;
  BalancedOptions options_;
};

}  // namespace moe
