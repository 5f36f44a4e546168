#include "moe/backend/routing_plan.hpp"

#include <cmath>
#include <string>

#include "moe/core/error.hpp"

namespace moe {

std::size_t RoutingPlan::routed_slots() const {
  std::size_t n = 0;
  for (const std::int32_t e : slot_expert) n += e >= 0 ? 1 : 0;
  return n;
}

std::size_t expert_capacity(std::size_t tokens, std::size_t experts, std::size_t k, double factor) {
  require(experts > 0, "expert capacity: no experts");
  if (!(factor > 0.0)) return 0;
  const double places = double(k) * double(tokens) / double(experts) * factor;
  // A relative slack of 1e-12 so that e.g. 4096 * 1.25 / 8 = 640 is not rounded up to 641.
  return std::size_t(std::ceil(places * (1.0 - 1e-12)));
}

std::vector<std::int64_t> slot_claims(const std::vector<std::int32_t>& slot_expert, std::size_t experts,
                                      std::size_t k) {
  std::vector<std::int64_t> claims(k * experts, 0);
  for (std::size_t i = 0; i < slot_expert.size(); ++i)
    if (slot_expert[i] >= 0 && std::size_t(slot_expert[i]) < experts) ++claims[(i % k) * experts + std::size_t(slot_expert[i])];
  return claims;
}

RoutingPlan make_plan(std::size_t tokens, std::size_t experts, std::size_t k, std::vector<std::int32_t> slot_expert,
                      std::vector<double> slot_weight, std::size_t capacity, std::vector<std::int64_t> prior_claims) {
  const std::size_t slots = tokens * k;
  require(experts > 0, "routing plan: no experts");
  require(slot_expert.size() == slots && slot_weight.size() == slots,
          "routing plan: expected " + std::to_string(slots) + " slots (tokens x k)");
  RoutingPlan p;
  p.tokens = tokens;
  p.experts = experts;
  p.k = k;
  p.capacity = capacity;
  require(prior_claims.empty() || prior_claims.size() == k * experts, "routing plan: prior claims are not k x E");
  for (std::size_t t = 0; t < tokens; ++t)
    for (std::size_t s = 0; s < k; ++s) {
      const std::int32_t e = slot_expert[t * k + s];
      require(e >= -1 && e < std::int32_t(experts), "routing plan: expert id " + std::to_string(e) + " out of range");
      if (e < 0) slot_weight[t * k + s] = 0.0;
      for (std::size_t r = 0; r < s && e >= 0; ++r)
        require(slot_expert[t * k + r] != e, "routing plan: token " + std::to_string(t) + " names expert " +
                                                 std::to_string(e) + " twice");
    }
  // Capacity in priority order (slot-major): decides which slots are kept. A slot is kept when fewer than
  // `capacity` claims of its expert precede it (kept ones and dropped ones: once the expert is full every
  // later claim is dropped, so this is the same as counting kept slots).
  std::vector<char> kept(slots, 0);
  std::vector<std::int64_t> claimed(experts, 0), count(experts, 0);
  for (std::size_t s = 0; s < k; ++s)
    for (std::size_t t = 0; t < tokens; ++t) {
      const std::int32_t e = slot_expert[t * k + s];
      if (e < 0) continue;
      const auto eu = std::size_t(e);
      const std::int64_t ahead = claimed[eu]++ + (prior_claims.empty() ? 0 : prior_claims[s * experts + eu]);
      if (capacity == 0 || ahead < std::int64_t(capacity)) {
        kept[t * k + s] = 1;
        ++count[eu];
      }
    }
  // Counting sort by expert; walking slots in token-major order keeps token ids ascending inside an expert.
  p.expert_offsets.assign(experts + 1, 0);
  for (std::size_t e = 0; e < experts; ++e) p.expert_offsets[e + 1] = p.expert_offsets[e] + count[e];
  const std::size_t total = std::size_t(p.expert_offsets[experts]);
  p.sorted_token.resize(total);
  p.sorted_slot.resize(total);
  p.sorted_weight.resize(total);
  p.slot_position.assign(slots, -1);
  std::vector<std::int64_t> next(p.expert_offsets.begin(), p.expert_offsets.end() - 1);
  for (std::size_t i = 0; i < slots; ++i) {
    const std::int32_t e = slot_expert[i];
    if (e < 0) continue;
    if (!kept[i]) {
      p.dropped.push_back(std::int64_t(i));
      continue;
    }
    const std::int64_t at = next[std::size_t(e)]++;
    p.sorted_token[std::size_t(at)] = std::int32_t(i / k);
    p.sorted_slot[std::size_t(at)] = std::int64_t(i);
    p.sorted_weight[std::size_t(at)] = slot_weight[i];
    p.slot_position[i] = at;
  }
  p.slot_expert = std::move(slot_expert);
  p.slot_weight = std::move(slot_weight);
  p.prior_claims = std::move(prior_claims);
  return p;
}

void validate(const RoutingPlan& p) {
  const std::size_t slots = p.tokens * p.k;
  auto check = [](bool ok, const std::string& what) { require(ok, "invalid routing plan: " + what); };
  check(p.experts > 0, "no experts");
  check(p.slot_expert.size() == slots && p.slot_weight.size() == slots && p.slot_position.size() == slots,
        "token-major arrays are not tokens x k long");
  check(p.expert_offsets.size() == p.experts + 1 && p.expert_offsets[0] == 0, "expert_offsets is not E+1 long from 0");
  for (std::size_t e = 0; e < p.experts; ++e) {
    check(p.expert_offsets[e + 1] >= p.expert_offsets[e], "expert_offsets decreases at expert " + std::to_string(e));
    check(p.capacity == 0 || p.expert_count(e) <= p.capacity, "expert " + std::to_string(e) + " over capacity");
  }
  const std::size_t total = std::size_t(p.expert_offsets[p.experts]);
  check(p.sorted_token.size() == total && p.sorted_slot.size() == total && p.sorted_weight.size() == total,
        "expert-sorted arrays do not match expert_offsets");
  for (std::size_t e = 0; e < p.experts; ++e)
    for (auto i = std::size_t(p.expert_offsets[e]); i < std::size_t(p.expert_offsets[e + 1]); ++i) {
      const std::int64_t slot = p.sorted_slot[i];
      check(slot >= 0 && std::size_t(slot) < slots, "sorted_slot out of range");
      check(p.slot_expert[std::size_t(slot)] == std::int32_t(e), "entry " + std::to_string(i) + " is not its slot's expert");
      check(p.slot_position[std::size_t(slot)] == std::int64_t(i), "slot_position is not the inverse of sorted_slot");
      check(std::size_t(p.sorted_token[i]) == std::size_t(slot) / p.k, "sorted_token is not the slot's token");
      check(p.sorted_weight[i] == p.slot_weight[std::size_t(slot)], "sorted_weight differs from slot_weight");
      check(i == std::size_t(p.expert_offsets[e]) || p.sorted_token[i - 1] < p.sorted_token[i],
            "tokens not ascending inside expert " + std::to_string(e));
    }
  std::size_t dropped_seen = 0, kept_seen = 0;
  for (std::size_t i = 0; i < slots; ++i) {
    const std::int32_t e = p.slot_expert[i];
    check(e >= -1 && e < std::int32_t(p.experts), "slot_expert out of range");
    if (e < 0) {
      check(p.slot_position[i] == -1 && p.slot_weight[i] == 0.0, "an empty slot has a position or a weight");
    } else if (p.slot_position[i] < 0) {
      check(dropped_seen < p.dropped.size() && p.dropped[dropped_seen] == std::int64_t(i),
            "a routed slot without a position is not listed in dropped (in order)");
      check(p.capacity > 0 && (!p.prior_claims.empty() || p.expert_count(std::size_t(e)) == p.capacity),
            "a slot was dropped by an expert not full");
      ++dropped_seen;
    } else {
      ++kept_seen;
    }
  }
  check(dropped_seen == p.dropped.size(), "dropped lists slots that are kept or empty");
  check(kept_seen == total, "kept slots and expert-sorted entries differ in number");
}

}  // namespace moe
