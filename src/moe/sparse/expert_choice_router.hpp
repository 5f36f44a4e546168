#pragma once
// Expert-choice routing (Zhou et al. 2022, docs/methods.md#other-routers). Z = W X, S = softmax over experts
// (E x T); each expert takes the C = min(T, ceil(c T / E)) tokens with the largest S(e, :) (ties to the
// lower token id) and weights them by S(e, t). Every expert gets exactly C tokens (perfect balance); a
// token may get 0 or several experts. The plan's k is the most experts any token got in this call
// (at least 1), the other slots of a token empty; its capacity is C, so nothing is ever dropped.
// Not causal: a token's routing depends on the other tokens of the batch.
#include "moe/sparse/linear_logits.hpp"
#include "moe/sparse/router.hpp"

namespace moe {

class ExpertChoiceRouter final : public Router {
 public:
  ExpertChoiceRouter(arma::uword inputs, arma::uword experts, double capacity_factor = 2.0);
  std::string kind() const override { return "expert-choice"; }
  arma::uword inputs() const override { return W_.inputs(); }
  arma::uword experts() const override { return W_.experts(); }
  arma::uword k() const override { return W_.experts(); }  // a bound: a token gets at most E experts
  void init(Rng& rng, double scale) override { W_.init(rng, scale); }
  void collect(ParamList& params, const std::string& prefix) override { W_.collect(params, prefix + "W"); }
  Routing route(const arma::mat& X, const RouteContext& context) const override;
  arma::mat backward(const arma::mat& X, const Routing& routing, const RouterGrad& grad) override;
  // Tokens per expert for T tokens: min(T, ceil(c T / E)).
  std::size_t tokens_per_expert(std::size_t tokens) const;

 private:
  LinearLogits W_;
  double capacity_factor_;
};

}  // namespace moe
