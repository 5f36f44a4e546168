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

RoutingStats routing_stats(const RoutingPlan& plan) {
  RoutingStats s;
  s.importance.zeros(plan.experts);
  s.load.zeros(plan.experts);
  for (std::size_t i = 0; i < plan.slot_expert.size(); ++i)
    if (plan.slot_expert[i] >= 0) s.importance[arma::uword(plan.slot_expert[i])] += plan.slot_weight[i];
  for (std::size_t e = 0; e < plan.experts; ++e) s.load[e] = double(plan.expert_count(e));
  const std::size_t routed = plan.routed_slots();
  std::size_t unprocessed = 0;
  for (std::size_t t = 0; t < plan.tokens; ++t) {
    bool kept = false;
    for (std::size_t j = t * plan.k; j < (t + 1) * plan.k; ++j) kept |= plan.slot_position[j] >= 0;
    unprocessed += !kept;
  }
  return routing_stats(std::move(s.importance), std::move(s.load),
                       routed ? double(plan.dropped.size()) / double(routed) : 0.0,
                       plan.tokens ? double(unprocessed) / double(plan.tokens) : 0.0);
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
