#pragma once
// Per-step balance metrics of a routing (what /routing in the HDF5 results holds).
//   importance  E: sum of the slot weights routed to each expert (dropped slots included)
//   load        E: slots each expert actually processes (kept)
//   cv_importance, cv_load: coefficient of variation (population std / mean; 0 for a zero mean)
//   max_mean_load: max load / mean load (1 = perfect balance)
//   dropped_fraction: dropped slots / routed slots
//   dropped_token_fraction: tokens that no routed expert processes (all their slots dropped, or, with expert
//                    choice, no expert picked them) / all tokens
#include <armadillo>
#include <vector>


namespace moe {

struct RoutingStats {
  arma::vec importance, load;
  double cv_importance = 0.0, cv_load = 0.0, max_mean_load = 0.0, dropped_fraction = 0.0;
  double dropped_token_fraction = 0.0;
};

// The summary from per-expert importance and load (E each; the backend's routing_counts, or a soft MoE
// layer's masses).
RoutingStats routing_stats(arma::vec importance, arma::vec load, double dropped_fraction,
                           double dropped_token_fraction);
// The same from the backend's routing_counts ((3 E + 2) sums: per expert the kept slots, the routed slots
// and their weights; then the tokens with no kept slot, and the tokens).
RoutingStats routing_stats_from_counts(const std::vector<double>& counts, std::size_t experts);

}  // namespace moe
