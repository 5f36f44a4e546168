#pragma once
// The RoutingPlan: the one description of "which token goes to which expert with what weight" that every
// router produces and every backend of the sparse MoE layer consumes (docs/architecture.md#principles).
//
// Shapes (T tokens, E experts, k slots per token, A = kept assignments = expert_offsets[E]):
//   token-major, index t * k + s (slot s of token t):
//     slot_expert   T*k  expert chosen in this slot, or -1 for an empty slot (GShard's second expert not
//                        kept; expert choice pads tokens that got fewer than k experts)
//     slot_weight   T*k  combine weight (0 for an empty slot; a dropped slot keeps its gate value, which
//                        the balancing losses use, but contributes nothing to the output)
//     slot_position T*k  index into the expert-sorted arrays below, or -1 when the slot is empty or dropped
//   expert-sorted (grouped by expert, ascending token id inside an expert: a stable counting sort):
//     expert_offsets E+1 entries of expert e are [expert_offsets[e], expert_offsets[e+1])
//     sorted_token   A   token id of each entry (the gather index for the expert GEMMs)
//     sorted_slot    A   t * k + s of each entry (inverse of slot_position)
//     sorted_weight  A   slot_weight of each entry (scales the expert output rows before combining)
//   dropped          slot indices t * k + s, ascending, routed to an expert that was already full
//
// Everything is a flat std::vector of plain integers or doubles, free of Armadillo, so that the fast CPU
// and CUDA backends copy or map the arrays directly. A deterministic combine walks the
// token-major arrays (token t sums its k slots in slot order), so it needs no atomics.
#include "moe/backend/sparse_ffn_views.hpp"
#include <cstddef>
#include <cstdint>
#include <vector>

namespace moe {

struct RoutingPlan {
  std::size_t tokens = 0, experts = 0, k = 0;
  std::size_t capacity = 0;  // most entries an expert may take; 0 = dropless (no limit)
  std::vector<std::int32_t> slot_expert;
  std::vector<double> slot_weight;
  std::vector<std::int64_t> slot_position;
  std::vector<std::int64_t> expert_offsets;
  std::vector<std::int32_t> sorted_token;
  std::vector<std::int64_t> sorted_slot;
  std::vector<double> sorted_weight;
  std::vector<std::int64_t> dropped;
  // Expert parallelism: k x E claims of other shards of the batch ahead of this plan's slot-s claims
  // (TokenShard::prior_claims); empty for a whole batch. A shard may drop a slot of an expert it did not fill.
  std::vector<std::int64_t> prior_claims;

  std::size_t assignments() const { return sorted_token.size(); }
  std::size_t expert_count(std::size_t e) const { return std::size_t(expert_offsets[e + 1] - expert_offsets[e]); }
  // Slots holding an expert (kept or dropped).
  std::size_t routed_slots() const;
};

// Builds the plan from the token-major choices (T*k each; expert -1 marks an empty slot). With a capacity
// (> 0), slots claim places in priority order: every token's slot 0 in token order, then every slot 1, ...
// (first choices before second choices, as GShard and Switch do); a slot whose expert is full is dropped.
// prior_claims (k x E, or empty for none): claims of expert e made elsewhere in the batch ahead of these
// tokens' slot-s claims (a shard of a batch split over processes, token_shard.hpp); a slot is kept when
// fewer than `capacity` claims of its expert precede it, so the shards together keep exactly what one
// plan over the whole batch keeps.
// Throws moe::Error on an expert id out of range or a token that names one expert twice.
RoutingPlan make_plan(std::size_t tokens, std::size_t experts, std::size_t k, std::vector<std::int32_t> slot_expert,
                      std::vector<double> slot_weight, std::size_t capacity,
                      std::vector<std::int64_t> prior_claims = {});

// k x E, slot-major: how many of the tokens' slot s name expert e (-1, empty slots, not counted).
std::vector<std::int64_t> slot_claims(const std::vector<std::int32_t>& slot_expert, std::size_t experts,
                                      std::size_t k);

// Checks every invariant listed above (sizes, offsets, sort order, the two index maps inverse to each
// other, capacity, dropped slots); throws moe::Error naming the first one broken. Backends call it in
// debug paths and tests; routers' plans always pass.
void validate(const RoutingPlan& plan);

// Calls f(t, slot, e, local) for every kept slot, tokens in order and each token's slots in order: slot =
// t * k + s, e its expert, local its column in that expert's block (slot_position - expert_offsets[e]).
// The fixed order is what makes combines and scatters deterministic without atomics.
template <class F>
void for_each_kept_slot(const RoutingPlan& plan, F f) {
  for (std::size_t t = 0; t < plan.tokens; ++t)
    for (std::size_t slot = t * plan.k; slot < (t + 1) * plan.k; ++slot) {
      const std::int64_t pos = plan.slot_position[slot];
      if (pos < 0) continue;
      const std::int32_t e = plan.slot_expert[slot];
      f(t, slot, std::size_t(e), std::size_t(pos - plan.expert_offsets[std::size_t(e)]));
    }
}

// Places per expert for a capacity factor: ceil(k * T / E * factor); factor <= 0 means dropless (0).
// Routers apply capacity in training only (RouteContext::training): evaluation is dropless, so a token's
// routing does not depend on which other tokens it is evaluated with (expert choice and soft MoE, which
// route over the batch by design, are the exceptions).
std::size_t expert_capacity(std::size_t tokens, std::size_t experts, std::size_t k, double factor);

// The plan's arrays as the routed FFN kernels read them (valid while the plan lives).
inline kernels::PlanView plan_view(const RoutingPlan& plan) {
  kernels::PlanView v;
  v.tokens = plan.tokens;
  v.experts = plan.experts;
  v.k = plan.k;
  v.slot_position = plan.slot_position.data();
  v.expert_offsets = plan.expert_offsets.data();
  v.sorted_token = plan.sorted_token.data();
  return v;
}

}  // namespace moe
