#include "moe/sparse/expert_bias.hpp"

#include "moe/core/error.hpp"

namespace moe {

void ExpertBias::set(const arma::vec& b, const std::string& router) {
  require(b.n_elem == b_.n_elem && b.is_finite(), router + " router: the bias needs one finite value per expert");
  b_ = b;
}

void ExpertBias::update(const RoutingPlan& plan, const TokenShard* shard, const std::string& router) {
  require(plan.experts == b_.n_elem, router + " router: the plan has a different number of experts");
  arma::vec load(plan.experts, arma::fill::zeros);
  for (const std::int32_t e : plan.slot_expert)
    if (e >= 0) load[arma::uword(e)] += 1.0;
  sum_over_shards(shard, load.memptr(), load.n_elem);
  const double mean = arma::mean(load);
  for (arma::uword i = 0; i < b_.n_elem; ++i) b_[i] += rate_ * double((mean > load[i]) - (mean < load[i]));
}

}  // namespace moe
