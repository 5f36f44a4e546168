// The RoutingPlan on hand-made choices: the counting sort, capacity in priority order, empty experts and
// slots, the validator catching each broken invariant, and the capacity formula.
#include <doctest/doctest.h>

#include "moe/core/error.hpp"
#include "moe/backend/routing_plan.hpp"
#include "moe/backend/backend_registry.hpp"
#include "moe/sparse/routing_stats.hpp"

using namespace moe;
using Ids = std::vector<std::int32_t>;
using Idx = std::vector<std::int64_t>;

namespace {

// The statistics of a host plan's choices as training computes them: the same choices and capacity built
// into a plan on the CPU backend, its routing_counts.
RoutingStats stats_of(const RoutingPlan& host) {
  std::unique_ptr<Backend> b = make_backend("cpu", "double");
  DevicePlan plan;
  plan.tokens = host.tokens, plan.experts = host.experts, plan.k = host.k, plan.capacity = host.capacity;
  plan.slot_expert = b->tensor(host.k, host.tokens, DType::i32);
  plan.slot_weight = b->tensor(host.k, host.tokens);
  if (host.tokens > 0) {
    b->upload(plan.slot_expert, host.slot_expert.data());
    b->upload(plan.slot_weight, host.slot_weight.data());
  }
  b->build_plan(plan);
  Tensor sums = b->zeros(3 * host.experts + 2, 1);
  b->routing_counts(plan, sums);
  return routing_stats_from_counts(b->to_host(sums), host.experts);
}

}  // namespace

TEST_CASE("sparse routing plan: counting sort groups tokens by expert in token order") {
  // 4 tokens, 3 experts, k = 2; token-major choices.
  const Ids e = {2, 0, 0, 2, 2, 1, 0, 1};
  const std::vector<double> w = {.6, .4, .7, .3, .5, .5, .9, .1};
  const RoutingPlan p = make_plan(4, 3, 2, e, w, 0);
  validate(p);
  CHECK(p.expert_offsets == Idx{0, 3, 5, 8});
  CHECK(p.sorted_token == Ids{0, 1, 3, 2, 3, 0, 1, 2});
  CHECK(p.sorted_slot == Idx{1, 2, 6, 5, 7, 0, 3, 4});
  CHECK(p.sorted_weight == std::vector<double>{.4, .7, .9, .5, .1, .6, .3, .5});
  for (std::size_t i = 0; i < 8; ++i) CHECK(p.sorted_slot[std::size_t(p.slot_position[i])] == std::int64_t(i));
  CHECK(p.dropped.empty());
  CHECK(p.routed_slots() == 8);
}

TEST_CASE("sparse routing plan: capacity keeps first choices before second choices") {
  // Every token's first choice is expert 0, second expert 1; capacity 2.
  const Ids e = {0, 1, 0, 1, 0, 1, 1, 0};  // token 3 prefers 1 then 0
  const RoutingPlan p = make_plan(4, 2, 2, e, std::vector<double>(8, 0.5), 2);
  validate(p);
  // Slot 0 pass: tokens 0, 1 take expert 0 (full), token 2's first choice is dropped, token 3 takes
  // expert 1. Slot 1 pass: token 0 takes expert 1 (full), tokens 1, 2 dropped, token 3 on 0 dropped.
  CHECK(p.expert_offsets == Idx{0, 2, 4});
  CHECK(p.sorted_token == Ids{0, 1, 0, 3});
  CHECK(p.dropped == Idx{3, 4, 5, 7});
  CHECK(p.slot_position[4] == -1);
  const RoutingStats s = stats_of(p);
  CHECK(s.dropped_fraction == doctest::Approx(0.5));
  CHECK(s.dropped_token_fraction == doctest::Approx(0.25));  // token 2 lost both slots
  CHECK(s.max_mean_load == doctest::Approx(1.0));
  CHECK(s.importance[0] == doctest::Approx(2.0));  // dropped slots still count in importance
}

TEST_CASE("sparse routing plan: empty experts and empty slots") {
  const Ids e = {3, -1, 3, 0, -1, -1};
  const RoutingPlan p = make_plan(3, 5, 2, e, {1.0, 0.7, 0.6, 0.4, 0.2, 0.3}, 0);
  validate(p);
  CHECK(p.expert_offsets == Idx{0, 1, 1, 1, 3, 3});
  CHECK(p.slot_weight[1] == 0.0);  // empty slots carry no weight
  CHECK(p.slot_position[4] == -1);
  CHECK(p.routed_slots() == 3);
  const RoutingStats s = stats_of(p);
  CHECK(s.load[1] == 0.0);
  CHECK(s.max_mean_load == doctest::Approx(2.0 / 0.6));
  // No tokens at all.
  const RoutingPlan none = make_plan(0, 4, 2, {}, {}, 3);
  validate(none);
  CHECK(none.assignments() == 0);
}

TEST_CASE("sparse routing plan: make_plan refuses bad expert ids and repeated experts") {
  CHECK_THROWS_AS(make_plan(2, 3, 1, {0, 3}, {1, 1}, 0), Error);
  CHECK_THROWS_AS(make_plan(2, 3, 1, {0, -2}, {1, 1}, 0), Error);
  CHECK_THROWS_AS(make_plan(1, 3, 2, {1, 1}, {1, 1}, 0), Error);
  CHECK_THROWS_AS(make_plan(2, 3, 2, {0, 1}, {1, 1}, 0), Error);  // wrong length
}

TEST_CASE("sparse routing plan: validate catches every broken invariant") {
  const RoutingPlan good = make_plan(4, 3, 2, {2, 0, 0, 2, 2, 1, 0, 1}, {.6, .4, .7, .3, .5, .5, .9, .1}, 3);
  validate(good);
  auto broken = [&](auto edit) {
    RoutingPlan p = good;
    edit(p);
    return p;
  };
  CHECK_THROWS_AS(validate(broken([](RoutingPlan& p) { p.expert_offsets[1] = 2; })), Error);
  CHECK_THROWS_AS(validate(broken([](RoutingPlan& p) { std::swap(p.sorted_token[0], p.sorted_token[1]); })), Error);
  CHECK_THROWS_AS(validate(broken([](RoutingPlan& p) { p.sorted_weight[0] = 9.0; })), Error);
  CHECK_THROWS_AS(validate(broken([](RoutingPlan& p) { p.slot_position[0] = 1; })), Error);
  CHECK_THROWS_AS(validate(broken([](RoutingPlan& p) { p.slot_expert[0] = 1; })), Error);
  CHECK_THROWS_AS(validate(broken([](RoutingPlan& p) { p.capacity = 2; })), Error);
  CHECK_THROWS_AS(validate(broken([](RoutingPlan& p) { p.dropped.push_back(0); })), Error);
  CHECK_THROWS_AS(validate(broken([](RoutingPlan& p) { p.sorted_slot.pop_back(); })), Error);
}

TEST_CASE("sparse routing plan: expert capacity rounds up and dropless is zero") {
  CHECK(expert_capacity(4096, 8, 1, 1.25) == 640);
  CHECK(expert_capacity(4096, 8, 2, 1.0) == 1024);
  CHECK(expert_capacity(10, 4, 1, 1.0) == 3);
  CHECK(expert_capacity(10, 4, 1, 0.75) == 2);
  CHECK(expert_capacity(10, 4, 1, 0.0) == 0);
  CHECK(expert_capacity(10, 4, 1, -1.0) == 0);
}
