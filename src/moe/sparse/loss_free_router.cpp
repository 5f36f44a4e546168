#include "moe/sparse/loss_free_router.hpp"

#include "moe/core/math.hpp"
#include "moe/sparse/softmax_topk_router.hpp"
#include "moe/sparse/softmax_weights.hpp"

namespace moe {

LossFreeRouter::LossFreeRouter(arma::uword inputs, arma::uword experts, LossFreeOptions options)
    : W_(inputs, experts), options_(options), bias_(experts, arma::fill::zeros) {
  require(experts >= 1, "loss-free router: needs at least one expert");
  require(options.k >= 1 && options.k <= experts,
          "loss-free router: k = " + std::to_string(options.k) + " must be between 1 and the " +
              std::to_string(experts) + " experts");
}

void LossFreeRouter::init(Rng& rng, double scale) {
  W_.init(rng, scale);
  bias_.zeros();
}

void LossFreeRouter::set_bias(const arma::vec& b) {
  require(b.n_elem == bias_.n_elem && b.is_finite(), "loss-free router: the bias needs one finite value per expert");
  bias_ = b;
}

Routing LossFreeRouter::route(const arma::mat& X, const RouteContext& context) const {
  Routing r;
  const std::size_t T = X.n_cols, E = experts(), k = options_.k;
  r.logits = W_.logits(X);
  r.probs = column_softmax(r.logits, false).prob;
  const arma::mat biased = r.probs.each_col() + bias_;  // selection only
  std::vector<std::int32_t> chosen = top_k_per_token(biased, k);
  r.norm_expert = chosen;
  r.renormalized = options_.renormalize;
  std::vector<double> w = softmax_slot_weights(r.probs, chosen, r.norm_expert, k, r.renormalized);
  r.plan = plan_routes(context, T, E, k, std::move(chosen), std::move(w), options_.capacity_factor);
  return r;
}

arma::mat LossFreeRouter::backward(const arma::mat& X, const Routing& r, const RouterGrad& grad) {
  arma::mat dZ = softmax_slot_weights_backward(r.probs, r.plan.slot_expert, r.norm_expert, r.plan.k, r.renormalized,
                                               grad.dweight);
  if (!grad.dlogits.is_empty()) dZ += grad.dlogits;
  return W_.backward(X, dZ);
}

void LossFreeRouter::update_bias(const RoutingPlan& plan, const TokenShard* shard) {
  require(plan.experts == bias_.n_elem, "loss-free router: the plan has a different number of experts");
  arma::vec load(plan.experts, arma::fill::zeros);
  for (const std::int32_t e : plan.slot_expert)
    if (e >= 0) load[arma::uword(e)] += 1.0;
  sum_over_shards(shard, load.memptr(), load.n_elem);
  const double mean = arma::mean(load);
  for (arma::uword i = 0; i < bias_.n_elem; ++i)
    bias_[i] += options_.update_rate * double((mean > load[i]) - (mean < load[i]));
}

}  // namespace moe
