#include "moe/sparse/routing_stats.hpp"

#include <cmath>

namespace moe {

namespace {
double cv(const arma::vec& x) {
  if (x.n_elem == 0) return 0.0;
  const double m = arma::mean(x);
  if (m == 0.0) return 0.0;
  const arma::vec c = x - m;
  return std::sqrt(arma::dot(c, c) / double(x.n_elem)) / m;
}
}  // namespace

RoutingStats routing_stats(const RoutingPlan& plan, const TokenShard* shard) {
  const arma::uword E = plan.experts;
  // [importance (E), load (E), dropped slots, routed slots, unprocessed tokens, tokens]: summed over shards.
  arma::vec sums(2 * E + 4, arma::fill::zeros);
  for (std::size_t i = 0; i < plan.slot_expert.size(); ++i)
    if (plan.slot_expert[i] >= 0) sums[arma::uword(plan.slot_expert[i])] += plan.slot_weight[i];
  for (std::size_t e = 0; e < E; ++e) sums[E + e] = double(plan.expert_count(e));
  std::size_t unprocessed = 0;
  for (std::size_t t = 0; t < plan.tokens; ++t) {
    bool kept = false;
    for (std::size_t j = t * plan.k; j < (t + 1) * plan.k; ++j) kept |= plan.slot_position[j] >= 0;
    unprocessed += !kept;
  }
  sums[2 * E] = double(plan.dropped.size());
  sums[2 * E + 1] = double(plan.routed_slots());
  sums[2 * E + 2] = double(unprocessed);
  sums[2 * E + 3] = double(plan.tokens);
  sum_over_shards(shard, sums.memptr(), sums.n_elem);
  const double dropped = sums[2 * E], routed = sums[2 * E + 1], lost = sums[2 * E + 2], tokens = sums[2 * E + 3];
  return routing_stats(sums.head(E), sums.subvec(E, 2 * E - 1), routed > 0 ? dropped / routed : 0.0,
                       tokens > 0 ? lost / tokens : 0.0);
}

RoutingStats routing_stats(arma::vec importance, arma::vec load, double dropped_fraction,
                           double dropped_token_fraction) {
  RoutingStats s;
  s.importance = std::move(importance);
  s.load = std::move(load);
  s.cv_importance = cv(s.importance);
  s.cv_load = cv(s.load);
  const double mean_load = s.load.n_elem ? arma::mean(s.load) : 0.0;
  s.max_mean_load = mean_load > 0.0 ? s.load.max() / mean_load : 0.0;
  s.dropped_fraction = dropped_fraction;
  s.dropped_token_fraction = dropped_token_fraction;
  return s;
}

}  // namespace moe
