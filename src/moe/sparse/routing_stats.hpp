#pragma once
// Per-step balance metrics of a RoutingPlan (what /routing in the HDF5 results will hold).
//   importance  E: sum of the slot weights routed to each expert (dropped slots included)
//   load        E: slots each expert actually processes (kept)
//   cv_importance, cv_load: coefficient of variation (population std / mean; 0 for a zero mean)
//   max_mean_load: max load / mean load (1 = perfect balance)
//   dropped_fraction: dropped slots / routed slots
//   dropped_token_fraction: tokens that no routed expert processes (all their slots dropped, or, with expert
//                    choice, no expert picked them) / all tokens
#include <armadillo>

#include "moe/backend/routing_plan.hpp"
#include "moe/sparse/token_shard.hpp"

namespace moe {

struct RoutingStats {
  arma::vec importance, load;
  double cv_importance = 0.0, cv_load = 0.0, max_mean_load = 0.0, dropped_fraction = 0.0;
  double dropped_token_fraction = 0.0;
};

// With a shard (expert parallelism), the statistics of the whole batch (collective).
RoutingStats routing_stats(const RoutingPlan& plan, const TokenShard* shard = nullptr);
// The same summary from per-expert importance and load (E each), e.g. of a soft MoE layer.
RoutingStats routing_stats(arma::vec importance, arma::vec load, double dropped_fraction,
                           double dropped_token_fraction);

}  // namespace moe
