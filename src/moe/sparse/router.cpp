#include "moe/sparse/router.hpp"

#include "moe/core/error.hpp"

namespace moe {

RoutingPlan plan_routes(const RouteContext& context, std::size_t tokens, std::size_t experts, std::size_t k,
                        std::vector<std::int32_t> slot_expert, std::vector<double> slot_weight, double capacity_factor) {
  const std::size_t capacity = training_capacity(context, tokens, experts, k, capacity_factor);
  std::vector<std::int64_t> prior;
  // Every shard asks, capacity or not, so the collective calls match (capacity is the same on all).
  if (context.shard && capacity > 0) prior = context.shard->prior_claims(slot_claims(slot_expert, experts, k), experts);
  return make_plan(tokens, experts, k, std::move(slot_expert), std::move(slot_weight), capacity, std::move(prior));
}

void require_whole_batch(const RouteContext& context, const std::string& router) {
  require(context.shard == nullptr, router + " routing chooses over the whole batch and cannot be split over "
                                             "processes (expert parallelism needs a per-token router)");
}

}  // namespace moe
