#include "moe/sparse/balanced_router.hpp"

#include "moe/backend/auction.hpp"
#include "moe/sparse/softmax_topk_router.hpp"
#include "moe/sparse/token_noise.hpp"
#include "moe/sparse/router_registry.hpp"

namespace moe {

BalancedRouter::BalancedRouter(arma::uword inputs, arma::uword experts, BalancedOptions options)
    : W_(inputs, experts), options_(options) {
  require(experts >= 1, "balanced router: needs at least one expert");
  require(options.eps > 0.0, "balanced router: the auction epsilon must be positive");
}

Routing BalancedRouter::route(const arma::mat& X, const RouteContext& context) const {
  require_whole_batch(context, "balanced");
  Routing r;
  const std::size_t T = X.n_cols, E = experts();
  r.logits = W_.logits(X);
  const std::size_t C = expert_capacity(T, E, 1, 1.0);
  std::vector<std::int32_t> chosen =
      context.training && T > 0 ? auction_assignment(r.logits, C, options_.eps) : top_k_per_token(r.logits, 1);
  std::vector<double> w(T);
  for (std::size_t t = 0; t < T; ++t) w[t] = sigmoid(r.logits(arma::uword(chosen[t]), t));
  r.norm_expert.assign(T, -1);
  r.plan = make_plan(T, E, 1, std::move(chosen), std::move(w), context.training ? C : 0);
  return r;
}

arma::mat BalancedRouter::backward(const arma::mat& X, const Routing& r, const RouterGrad& grad) {
  arma::mat dZ(arma::size(r.logits), arma::fill::zeros);
  if (!grad.dweight.is_empty())
    for (std::size_t t = 0; t < r.plan.tokens; ++t) {
      const auto e = arma::uword(r.plan.slot_expert[t]);
      const double s = r.plan.slot_weight[t];  // sigmoid(Z(e, t))
      dZ(e, t) = grad.dweight[t] * s * (1.0 - s);
    }
  if (!grad.dlogits.is_empty()) dZ += grad.dlogits;
  return W_.backward(X, dZ);
}

namespace {
const RouterRegistration registered{{
    .name = "balanced",
    .help = "top-1 by a balanced linear assignment of the batch's tokens to the experts (BASE layers, Lewis et al. "
            "2021); greedy top-1 in evaluation",
    .traits = {.batch_wide_in_training = true},
    .flags = {},
    .validate = {},
    .make = [](const SparseLayerSpec&, arma::uword inputs, arma::uword experts) -> std::unique_ptr<Router> {
      return std::make_unique<BalancedRouter>(inputs, experts);
    },
}};
}  // namespace

}  // namespace moe
