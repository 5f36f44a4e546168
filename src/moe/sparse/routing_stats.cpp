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

RoutingStats routing_stats_from_counts(const std::vector<double>& c, std::size_t E) {
  arma::vec importance(E), load(E);
  double kept = 0, routed = 0;
  for (std::size_t e = 0; e < E; ++e) {
    load[e] = c[e];
    importance[e] = c[2 * E + e];
    kept += c[e];
    routed += c[E + e];
  }
  const double tokens = c[3 * E + 1];
  return routing_stats(importance, load, routed > 0 ? (routed - kept) / routed : 0.0,
                       tokens > 0 ? c[3 * E] / tokens : 0.0);
}

}  // namespace moe
