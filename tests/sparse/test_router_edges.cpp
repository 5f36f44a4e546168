// The hand-made cases of test_routers.cpp for the routers that file does not cover in full (loss-free,
// noisy top-k, hash; switch for empty experts): every token wanting one expert with a capacity overflow and
// empty experts, ties to the lower expert id, and k = E. Logits are X itself (W = identity, W_noise = 0);
// gaps of 50 keep noisy top-k's noise (scale softplus(0) = 0.69) from changing a choice.
#include <doctest/doctest.h>

#include <functional>
#include <memory>

#include "sparse/sparse_test_util.hpp"

#include "moe/sparse/hash_router.hpp"
#include "moe/sparse/loss_free_router.hpp"
#include "moe/sparse/noisy_topk_router.hpp"
#include "moe/sparse/routing_stats.hpp"
#include "moe/sparse/switch_router.hpp"

using namespace moe;
using moe::test::identity_router;
using moe::test::token_experts;
using Ids = std::vector<std::int32_t>;

namespace {
struct EdgeCase {
  std::string name;
  std::function<std::unique_ptr<Router>(arma::uword k, double capacity)> make;
};

std::vector<EdgeCase> edge_routers() {
  return {
      {"loss-free", [](arma::uword k, double c) { return std::make_unique<LossFreeRouter>(4, 4, LossFreeOptions{k, true, 1e-3, c}); }},
      {"noisy top-k", [](arma::uword k, double c) { return std::make_unique<NoisyTopKRouter>(4, 4, NoisyTopKOptions{k, c}); }},
  };
}
}  // namespace

TEST_CASE("sparse router edges: every token wants expert 0, capacity overflows, three experts stay empty") {
  const arma::uword T = 8;
  arma::mat Z(4, T, arma::fill::zeros);
  Z.row(0).fill(50.0);
  std::vector<std::unique_ptr<Router>> routers;
  for (const EdgeCase& c : edge_routers()) routers.push_back(c.make(1, 1.0));
  routers.push_back(std::make_unique<SwitchRouter>(4, 4, 1.0));
  for (auto& router : routers) {
    CAPTURE(router->kind());
    identity_router(*router);
    Rng rng(3);
    const Routing r = router->route(Z, {&rng, true, {}});
    validate(r.plan);
    CHECK(r.plan.capacity == 2);  // ceil(1 * 8 / 4 * 1.0)
    CHECK(r.plan.expert_count(0) == 2);
    CHECK(r.plan.sorted_token == std::vector<std::int32_t>{0, 1});  // first tokens first
    for (std::size_t e = 1; e < 4; ++e) CHECK(r.plan.expert_count(e) == 0);
    CHECK(r.plan.dropped.size() == 6);
    const RoutingStats s = routing_stats(r.plan);
    CHECK(s.dropped_token_fraction == doctest::Approx(0.75));
    CHECK(s.max_mean_load == doctest::Approx(4.0));
  }
  // Hash routing: every token with the same id lands on one expert; the same overflow.
  HashRouter hash(4, 4, HashOptions{0, 1.0});
  const std::vector<std::uint64_t> same(T, 42);
  const Routing h = hash.route(Z, {nullptr, true, same});
  validate(h.plan);
  const std::size_t e = std::size_t(HashRouter::hash(42) % 4);
  CHECK(h.plan.expert_count(e) == 2);
  CHECK(h.plan.dropped.size() == 6);
  for (std::size_t j = 0; j < 4; ++j)
    if (j != e) CHECK(h.plan.expert_count(j) == 0);
  // Outside training the overflow is not applied: every token is processed.
  const Routing eval = hash.route(Z, {nullptr, false, same});
  CHECK(eval.plan.expert_count(e) == T);
  CHECK(eval.plan.dropped.empty());
}

TEST_CASE("sparse router edges: ties go to the lower expert id, and k = E routes every token everywhere") {
  const arma::mat ties(4, 3, arma::fill::zeros);
  for (const EdgeCase& c : edge_routers()) {
    CAPTURE(c.name);
    auto router = c.make(2, 0.0);
    identity_router(*router);
    const Routing r = router->route(ties, {nullptr, false, {}});  // evaluation: no noise
    validate(r.plan);
    for (std::size_t t = 0; t < 3; ++t) {
      CHECK(token_experts(r.plan, t) == Ids{0, 1});
      CHECK(r.plan.slot_weight[2 * t] == doctest::Approx(0.5));  // renormalised over the two
    }
    CHECK(r.plan.expert_count(2) == 0);
    CHECK(r.plan.expert_count(3) == 0);

    auto all = c.make(4, 0.0);
    identity_router(*all);
    const arma::mat Z = {{3.0, -1.0}, {0.0, 2.0}, {1.0, 2.5}, {-2.0, 0.0}};
    const Routing q = all->route(Z, {nullptr, false, {}});
    validate(q.plan);
    CHECK(token_experts(q.plan, 0) == Ids{0, 2, 1, 3});
    CHECK(token_experts(q.plan, 1) == Ids{2, 1, 3, 0});
    const arma::mat P = arma::exp(Z.each_row() - arma::max(Z, 0));
    for (std::size_t t = 0; t < 2; ++t) {
      double total = 0.0;
      for (std::size_t s = 0; s < 4; ++s) {
        const std::size_t e = std::size_t(q.plan.slot_expert[4 * t + s]);
        CHECK(q.plan.slot_weight[4 * t + s] == doctest::Approx(P(e, t) / arma::accu(P.col(t))));
        total += q.plan.slot_weight[4 * t + s];
      }
      CHECK(total == doctest::Approx(1.0));
    }
    for (std::size_t e = 0; e < 4; ++e) CHECK(q.plan.expert_count(e) == 2);
  }
}
