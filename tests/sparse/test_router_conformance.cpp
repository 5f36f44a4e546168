// Conformance of every registered router (moe/sparse/router_registry.hpp): a router added to the registry
// is tested here without touching this file. For each router, in variants of the flags it reads (k = 1,
// 2 and E; a capacity that drops; raw weights):
//   - central differences in double precision of its combine weights with respect to its parameters and
//     the tokens, after some steps of its per-step state (the loss-free bias), and of the whole layer's
//     loss with every auxiliary loss the router accepts;
//   - edge cases on hand-made logits (W = identity): every token wanting one expert (capacity overflow,
//     empty experts), ties (to the lower expert id), k = E;
//   - the same plan with 1 and 2 threads;
//   - its entry is complete (help, factory, flags that exist) and it appears in the config fuzzer's
//     dictionary.
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <set>

#include "sparse/sparse_test_util.hpp"

#include "moe/core/gradient_check.hpp"
#include "moe/core/threads.hpp"
#include "moe/sparse/router_registry.hpp"
#include "moe/sparse/routing_stats.hpp"
#include "moe/sparse/sparse_moe_layer.hpp"

using namespace moe;
using moe::test::identity_router;
using moe::test::token_experts;

namespace {

bool reads(const RouterEntry& e, const std::string& flag) {
  return std::find(e.flags.begin(), e.flags.end(), flag) != e.flags.end();
}

std::vector<const RouterEntry*> routed_entries() {
  std::vector<const RouterEntry*> out;
  for (const RouterEntry& e : RouterRegistry::instance().entries())
    if (e.traits.routed) out.push_back(&e);
  return out;
}

struct Variant {
  std::string name;
  SparseLayerSpec spec;
};

// The router's default settings, then one change per flag it reads.
std::vector<Variant> variants(const RouterEntry& e, arma::uword experts) {
  SparseLayerSpec s;
  s.router = e.name;
  std::vector<Variant> out{{"defaults", s}};
  if (reads(e, "top-k")) {
    for (arma::uword k : {arma::uword(1), experts}) {
      SparseLayerSpec v = s;
      v.top_k = k;
      out.push_back({"k = " + std::to_string(k), v});
    }
  }
  if (reads(e, "capacity-factor")) {
    SparseLayerSpec v = s;
    v.capacity_factor = 0.75;
    if (reads(e, "top-k")) v.top_k = 3;
    out.push_back({"capacity 0.75", v});
  }
  if (reads(e, "no-renormalize")) {
    SparseLayerSpec v = s;
    v.renormalize = false;
    out.push_back({"raw weights", v});
  }
  return out;
}

std::vector<std::uint64_t> ids_for(arma::uword T, std::uint64_t same = 0) {
  std::vector<std::uint64_t> ids(T);
  for (arma::uword t = 0; t < T; ++t) ids[t] = same ? same : 7 * t + 3;
  return ids;
}

}  // namespace

TEST_CASE("router conformance: every entry is complete and the registry holds the routers the docs promise") {
  const std::vector<std::string> names = RouterRegistry::instance().names();
  for (const char* expected : {"balanced", "expert-choice", "gshard", "hash", "loss-free", "noisy-topk", "sigmoid-topk",
                               "soft", "switch", "topk"})
    CHECK(std::find(names.begin(), names.end(), expected) != names.end());
  // The router flags that exist on the command line (apps/sparse_options.hpp).
  const std::set<std::string> known{"top-k", "capacity-factor", "no-renormalize", "slots-per-expert",
                                    "gshard-threshold", "bias-rate", "w-load"};
  std::ifstream dict(std::string(MOE_FUZZ_DIR) + "/dicts/config.dict");
  REQUIRE(dict);
  const std::string dictionary{std::istreambuf_iterator<char>(dict), {}};
  for (const RouterEntry& e : RouterRegistry::instance().entries()) {
    CAPTURE(e.name);
    CHECK(!e.help.empty());
    CHECK(e.help.find('\n') == std::string::npos);
    CHECK(bool(e.make) == e.traits.routed);
    for (const std::string& f : e.flags) CHECK(known.count(f) == 1);
    CHECK(dictionary.find("\"" + e.name + "\"\n") != std::string::npos);  // the fuzzer tries the name
    CHECK(&router_entry(e.name) == &e);
  }
  CHECK_THROWS_WITH_AS(router_entry("nope"), doctest::Contains("unknown --router 'nope' (expected balanced, "), Error);
}

TEST_CASE("router conformance: combine-weight gradients of every router in every variant, in double precision") {
  const arma::uword d = 4, E = 5, T = 11;
  for (const RouterEntry* entry : routed_entries()) {
    bool some_gradient = false;
    for (const Variant& v : variants(*entry, E)) {
      CAPTURE(entry->name);
      CAPTURE(v.name);
      v.spec.validate(E);
      std::unique_ptr<Router> router = make_router(v.spec, d, E);
      CHECK(router->kind() == entry->name);
      ParamList step_state;  // the trait says whether the router keeps per-step state, and it does
      router->collect_state(step_state, "r/");
      CHECK((step_state.size() > 0) == entry->traits.keeps_step_state);
      Rng rng(11);
      router->init(rng, 1.5);
      arma::mat X = rng.normal_matrix(d, T), dX;
      const std::vector<std::uint64_t> ids = ids_for(T);
      // Per-step state away from its start (the loss-free bias): steps on unbalanced tokens.
      for (int step = 0; step < 40; ++step) {
        Rng r(100 + step);
        router->end_step(router->route(X + 0.5, {&r, true, ids}).plan, nullptr);
      }
      ParamList params;
      router->collect(params, "r/");
      params.add("X", X, dX);
      const Rng draws(12);
      const Routing at_start = [&] {
        Rng r = draws;
        return router->route(X, {&r, true, ids});
      }();
      validate(at_start.plan);
      const arma::vec coef = Rng(13).normal_matrix(at_start.plan.slot_weight.size(), 1);
      auto loss = [&](bool accumulate) {
        Rng r = draws;
        const Routing routing = router->route(X, {&r, true, ids});
        REQUIRE(routing.plan.slot_expert == at_start.plan.slot_expert);  // the selection did not move
        double value = 0.0;
        for (std::size_t i = 0; i < routing.plan.slot_weight.size(); ++i) value += coef[i] * routing.plan.slot_weight[i];
        if (accumulate) dX += router->backward(X, routing, RouterGrad{coef, {}, {}});
        return value;
      };
      const GradientCheck check = check_gradient(params, loss, 1e-5, 1e-4);
      CHECK(check.max_relative_error < 1e-6);
      // Weights that are all exactly 1 (top-1 renormalised, hash) have no gradient; any other must have one.
      bool all_one = true;
      for (std::size_t i = 0; i < at_start.plan.slot_weight.size(); ++i)
        if (at_start.plan.slot_expert[i] >= 0 && at_start.plan.slot_weight[i] != 1.0) all_one = false;
      if (all_one) {
        CHECK(arma::abs(check.numeric).max() < 1e-9);
      } else {
        CHECK(arma::abs(check.analytic).max() > 1e-3);
        some_gradient = true;
      }
    }
    if (entry->traits.has_logits) CHECK_MESSAGE(some_gradient, entry->name << ": no variant has a gradient");
  }
}

TEST_CASE("router conformance: the whole layer's gradient with every router and every loss it accepts") {
  const arma::uword E = 4, T = 9;
  for (const RouterEntry* entry : routed_entries()) {
    CAPTURE(entry->name);
    SparseLayerSpec s;
    s.router = entry->name;
    s.model_dim = 3;
    s.ff_dim = 5;
    s.router_init_scale = 1.5;
    s.shared_experts = 1;
    if (reads(*entry, "capacity-factor")) s.capacity_factor = 1.0;
    if (entry->traits.has_logits) {
      s.w_importance = 0.4;
      s.switch_alpha = 0.3;
      s.z_loss = 0.2;
    }
    if (reads(*entry, "w-load")) s.w_load = 0.5;
    SparseMoeLayer layer(s, E);
    Rng rng(21);
    layer.init(rng);
    arma::mat X = rng.normal_matrix(s.model_dim, T), dX;
    const arma::mat coef = Rng(22).normal_matrix(s.model_dim, T);
    const std::vector<std::uint64_t> ids = ids_for(T);
    for (int step = 0; step < 30; ++step) {  // per-step state away from its start
      Rng r(200 + step);
      layer.end_step(layer.forward(X + 0.5, {&r, true, ids}));
    }
    ParamList params;
    layer.collect(params, "moe/");
    params.add("X", X, dX);
    const Rng draws(23);
    const MoeForward first = [&] {
      Rng r = draws;
      return layer.forward(X, {&r, true, ids});
    }();
    auto loss = [&](bool accumulate) {
      Rng r = draws;
      const MoeForward fwd = layer.forward(X, {&r, true, ids});
      REQUIRE(fwd.routing.plan.slot_expert == first.routing.plan.slot_expert);
      if (accumulate) dX += layer.backward(X, fwd, coef);
      return arma::accu(coef % fwd.Y) + fwd.aux.total;
    };
    const GradientCheck check = check_gradient(params, loss, 1e-5, 1e-4);
    CHECK(check.max_relative_error < 1e-6);
    CHECK(arma::abs(check.analytic).max() > 1e-2);
    if (entry->traits.has_logits) CHECK(first.aux.total > 0.0);
  }
}

TEST_CASE("router conformance: every token wanting one expert overflows its capacity and leaves the others empty") {
  const arma::uword E = 4, T = 8;
  arma::mat Z(E, T, arma::fill::zeros);
  Z.row(2).fill(50.0);  // expert 2 is everyone's first choice
  const std::vector<std::uint64_t> same = ids_for(T, 42);
  for (const RouterEntry* entry : routed_entries()) {
    CAPTURE(entry->name);
    SparseLayerSpec s;
    s.router = entry->name;
    s.top_k = 1;
    if (reads(*entry, "capacity-factor")) s.capacity_factor = 1.0;
    std::unique_ptr<Router> router = make_router(s, E, E);
    identity_router(*router);
    Rng rng(3);
    const Routing r = router->route(Z, {&rng, true, same});
    validate(r.plan);
    std::size_t kept = 0, routed = 0;
    for (std::size_t e = 0; e < E; ++e) {
      kept += r.plan.expert_count(e);
      if (r.plan.capacity > 0) CHECK(r.plan.expert_count(e) <= r.plan.capacity);
    }
    for (std::int32_t e : r.plan.slot_expert) routed += e >= 0;
    CHECK(kept + r.plan.dropped.size() == routed);
    for (std::size_t i = 0; i < r.plan.slot_weight.size(); ++i) {
      CHECK(std::isfinite(r.plan.slot_weight[i]));
      CHECK(r.plan.slot_weight[i] >= 0.0);
    }
    if (entry->traits.batch_wide_in_training) continue;  // a batch-wide router balances by design
    // A per-token router: the favourite (expert 2; hash: the id's expert) takes the first tokens up to its
    // capacity, first come first served, the rest are dropped, and no other expert gets a first choice.
    const std::size_t favourite = entry->traits.needs_token_ids ? std::size_t(r.plan.slot_expert[0]) : 2;
    const std::size_t capacity = r.plan.capacity > 0 ? r.plan.capacity : T;
    if (reads(*entry, "capacity-factor")) CHECK(r.plan.capacity == expert_capacity(T, E, r.plan.k, 1.0));
    CHECK(r.plan.expert_count(favourite) == std::min<std::size_t>(capacity, T));
    for (std::size_t t = 0; t < std::min<std::size_t>(capacity, T); ++t)
      CHECK(r.plan.sorted_token[r.plan.expert_offsets[favourite] + t] == std::int32_t(t));
    for (std::size_t t = 0; t < T; ++t) CHECK(std::size_t(r.plan.slot_expert[t * r.plan.k]) == favourite);
    CHECK(r.plan.dropped.size() == T - std::min<std::size_t>(capacity, T));
    if (r.plan.k == 1) {  // every token has one slot: the dropped ones are the tokens no expert sees
      const RoutingStats stats = routing_stats(r.plan);
      CHECK(stats.dropped_token_fraction == doctest::Approx(double(r.plan.dropped.size()) / T));
      CHECK(stats.max_mean_load == doctest::Approx(double(E)));  // all load on one of E experts
    }
  }
}

TEST_CASE("router conformance: ties go to the lower expert id and k = E routes every token to every expert") {
  const arma::uword E = 4, T = 3;
  const arma::mat ties(E, T, arma::fill::zeros);
  for (const RouterEntry* entry : routed_entries()) {
    if (!entry->traits.has_logits || entry->traits.batch_wide_in_evaluation) continue;
    CAPTURE(entry->name);
    SparseLayerSpec s;
    s.router = entry->name;
    std::unique_ptr<Router> router = make_router(s, E, E);
    identity_router(*router);
    const Routing r = router->route(ties, {nullptr, false, {}});  // evaluation: no noise, no random draws
    validate(r.plan);
    for (std::size_t t = 0; t < T; ++t) {
      const std::vector<std::int32_t> got = token_experts(r.plan, t);
      for (std::size_t slot = 0; slot < got.size(); ++slot) CHECK(got[slot] == std::int32_t(slot));
    }
    if (!reads(*entry, "top-k")) continue;
    s.top_k = E;
    std::unique_ptr<Router> all = make_router(s, E, E);
    identity_router(*all);
    const arma::mat Z = {{3.0, -1.0}, {0.0, 2.0}, {1.0, 2.5}, {-2.0, 0.0}};
    const Routing q = all->route(Z, {nullptr, false, {}});
    validate(q.plan);
    CHECK(token_experts(q.plan, 0) == std::vector<std::int32_t>{0, 2, 1, 3});  // best first
    CHECK(token_experts(q.plan, 1) == std::vector<std::int32_t>{2, 1, 3, 0});
    for (std::size_t e = 0; e < E; ++e) CHECK(q.plan.expert_count(e) == 2);
    for (std::size_t t = 0; t < 2; ++t) {
      double total = 0.0;
      for (std::size_t slot = 0; slot < E; ++slot) total += q.plan.slot_weight[E * t + slot];
      if (s.renormalize) CHECK(total == doctest::Approx(1.0));
    }
  }
}

TEST_CASE("router conformance: the same seed gives the same plan with 1 and 2 threads") {
  const arma::uword d = 8, E = 16, T = 4096;  // enough tokens to start the OpenMP loops
  const arma::mat X = Rng(1).normal_matrix(d, T);
  const std::vector<std::uint64_t> ids = ids_for(T);
  const int before = max_threads();
  for (const RouterEntry* entry : routed_entries()) {
    for (const Variant& v : variants(*entry, E)) {
      CAPTURE(entry->name);
      CAPTURE(v.name);
      std::unique_ptr<Router> router = make_router(v.spec, d, E);
      Rng init(2);
      router->init(init, 1.0);
      RoutingPlan plans[2];
      for (int threads : {1, 2}) {
        set_threads(threads);
        Rng draws(3);
        plans[threads - 1] = router->route(X, {&draws, true, ids}).plan;
        validate(plans[threads - 1]);
      }
      CHECK(moe::test::same_plan(plans[0], plans[1]));
    }
  }
  set_threads(before);
}
