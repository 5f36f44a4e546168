#pragma once
// Helpers shared by the sparse-routing tests: routers fed hand-made logits (W = identity, X = the
// logits, d = E) and a field-by-field comparison of two RoutingPlans.
#include <doctest/doctest.h>

#include <armadillo>
#include <string>

#include "moe/core/params.hpp"
#include "moe/sparse/router.hpp"

namespace moe::test {

// Every E x E parameter named ".../W" or ".../W_g" becomes the identity and ".../W_noise" zero, so that
// the router's clean logits are X itself.
inline void identity_router(Router& router) {
  ParamList params;
  router.collect(params, "r/");
  for (const Param& p : params) {
    if (p.name == "r/W" || p.name == "r/W_g") *p.value = arma::eye(p.value->n_rows, p.value->n_cols);
    if (p.name == "r/W_noise") p.value->zeros();
  }
}

inline bool same_plan(const RoutingPlan& a, const RoutingPlan& b) {
  return a.tokens == b.tokens && a.experts == b.experts && a.k == b.k && a.capacity == b.capacity &&
         a.slot_expert == b.slot_expert && a.slot_weight == b.slot_weight && a.slot_position == b.slot_position &&
         a.expert_offsets == b.expert_offsets && a.sorted_token == b.sorted_token && a.sorted_slot == b.sorted_slot &&
         a.sorted_weight == b.sorted_weight && a.dropped == b.dropped;
}

// The experts of token t's slots, in slot order (-1 for empty slots).
inline std::vector<std::int32_t> token_experts(const RoutingPlan& p, std::size_t t) {
  return {p.slot_expert.begin() + long(t * p.k), p.slot_expert.begin() + long((t + 1) * p.k)};
}

}  // namespace moe::test
