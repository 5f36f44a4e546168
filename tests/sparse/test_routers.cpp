// Every router on hand-made logits (W = identity, X = the logits): ties, k = E, all tokens wanting one
// expert, capacity overflow, empty experts; every plan validated.
#include <doctest/doctest.h>

#include <cmath>

#include "sparse/sparse_test_util.hpp"

#include "moe/core/error.hpp"
#include "moe/core/math.hpp"
#include "moe/sparse/expert_choice_router.hpp"
#include "moe/sparse/gshard_router.hpp"
#include "moe/sparse/hash_router.hpp"
#include "moe/sparse/noisy_topk_router.hpp"
#include "moe/sparse/routing_stats.hpp"
#include "moe/sparse/softmax_topk_router.hpp"
#include "moe/sparse/switch_router.hpp"

using namespace moe;
using moe::test::identity_router;
using moe::test::token_experts;
using Ids = std::vector<std::int32_t>;

namespace {
// Columns are tokens: E x T logits.
const arma::mat tie_logits = {{1.0, 0.0, 2.0}, {1.0, 0.0, 2.0}, {0.5, 0.0, 2.0}, {1.0, 0.0, -1.0}};
}  // namespace

TEST_CASE("sparse top-k router: ties go to the lower expert and weights renormalise over the top k") {
  SoftmaxTopKRouter router(4, 4, {2, true, 0.0});
  identity_router(router);
  const Routing r = router.route(tie_logits, {});
  validate(r.plan);
  CHECK(token_experts(r.plan, 0) == Ids{0, 1});  // three-way tie at 1.0: experts 0 and 1
  CHECK(token_experts(r.plan, 1) == Ids{0, 1});  // all equal
  CHECK(token_experts(r.plan, 2) == Ids{0, 1});
  for (std::size_t t = 0; t < 3; ++t) {
    CHECK(r.plan.slot_weight[2 * t] == doctest::Approx(0.5));
    CHECK(r.plan.slot_weight[2 * t + 1] == doctest::Approx(0.5));
  }
  CHECK(r.plan.expert_count(2) == 0);  // empty experts
  CHECK(r.plan.expert_count(3) == 0);
  // Without renormalising, the weight is the full softmax probability.
  SoftmaxTopKRouter raw(4, 4, {2, false, 0.0});
  identity_router(raw);
  const Routing q = raw.route(tie_logits, {});
  CHECK(q.plan.slot_weight[2] == doctest::Approx(0.25));  // token 1: uniform over 4
}

TEST_CASE("sparse top-k router: k equal to the number of experts routes every token everywhere") {
  const arma::mat Z = {{3.0, -1.0}, {0.0, 2.0}, {1.0, 2.0}};
  SoftmaxTopKRouter router(3, 3, {3, true, 0.0});
  identity_router(router);
  const Routing r = router.route(Z, {});
  validate(r.plan);
  CHECK(token_experts(r.plan, 0) == Ids{0, 2, 1});
  CHECK(token_experts(r.plan, 1) == Ids{1, 2, 0});  // tie 2, 2: lower id first
  const arma::mat P = softmax_cols(Z);
  for (std::size_t t = 0; t < 2; ++t)
    for (std::size_t s = 0; s < 3; ++s)
      CHECK(r.plan.slot_weight[3 * t + s] == doctest::Approx(P(arma::uword(r.plan.slot_expert[3 * t + s]), t)));
  for (std::size_t e = 0; e < 3; ++e) CHECK(r.plan.expert_count(e) == 2);
  CHECK_THROWS_AS(SoftmaxTopKRouter(3, 3, {4, true, 0.0}), Error);
  CHECK_THROWS_AS(SoftmaxTopKRouter(3, 3, {0, true, 0.0}), Error);
}

TEST_CASE("sparse top-k router: all tokens wanting one expert overflow its capacity") {
  const arma::uword T = 8, E = 4;
  arma::mat Z(E, T, arma::fill::zeros);
  Z.row(2).fill(5.0);
  Z.row(0).fill(1.0);
  SoftmaxTopKRouter router(E, E, {2, true, 1.0});  // capacity ceil(2 * 8 / 4) = 4
  identity_router(router);
  const Routing r = router.route(Z, {});
  validate(r.plan);
  CHECK(r.plan.capacity == 4);
  CHECK(r.plan.expert_count(2) == 4);  // tokens 0..3 on their first choice
  CHECK(r.plan.expert_count(0) == 4);  // tokens 0..3 on their second choice
  CHECK(r.plan.dropped.size() == 8);   // tokens 4..7 lose both
  CHECK(r.plan.sorted_token[0] == 0);
  const RoutingStats s = routing_stats(r.plan);
  CHECK(s.dropped_fraction == doctest::Approx(0.5));
  // Dropless: everything kept, expert 2 takes all 8.
  SoftmaxTopKRouter dropless(E, E, {2, true, 0.0});
  identity_router(dropless);
  const Routing d = dropless.route(Z, {});
  validate(d.plan);
  CHECK(d.plan.dropped.empty());
  CHECK(d.plan.expert_count(2) == 8);
  CHECK(routing_stats(d.plan).max_mean_load == doctest::Approx(2.0));
}

TEST_CASE("sparse top-k router: non-finite logits and wrong shapes are refused") {
  SoftmaxTopKRouter router(3, 3, {1, true, 0.0});
  identity_router(router);
  arma::mat Z(3, 2, arma::fill::zeros);
  Z(1, 1) = arma::datum::nan;
  CHECK_THROWS_AS(router.route(Z, {}), Error);
  CHECK_THROWS_AS(router.route(arma::mat(4, 2, arma::fill::zeros), {}), Error);
  // Extreme but finite logits: weights stay finite.
  const Routing r = router.route(arma::mat{{1e300, -1e300}, {-1e300, 0.0}, {0.0, 1e300}}, {});
  validate(r.plan);
  CHECK(r.plan.slot_weight == std::vector<double>{1.0, 1.0});
}

TEST_CASE("sparse switch router: top-1 with the raw probability and capacity one per expert share") {
  const arma::uword T = 6, E = 3;
  arma::mat Z(E, T, arma::fill::zeros);
  Z(1, 0) = 2.0;  // token 0 prefers expert 1; every other token ties and goes to expert 0
  SwitchRouter router(E, E, 1.0);  // capacity ceil(6 / 3) = 2
  identity_router(router);
  const Routing r = router.route(Z, {});
  validate(r.plan);
  CHECK(router.kind() == "switch");
  CHECK(r.plan.k == 1);
  CHECK(r.plan.slot_weight[0] == doctest::Approx(std::exp(2.0) / (std::exp(2.0) + 2.0)));
  CHECK(r.plan.slot_weight[1] == doctest::Approx(1.0 / 3.0));
  CHECK(r.plan.expert_count(0) == 2);  // tokens 1, 2 kept; 3, 4, 5 dropped
  CHECK(r.plan.expert_count(2) == 0);  // empty expert
  CHECK(r.plan.dropped == std::vector<std::int64_t>{3, 4, 5});
}

TEST_CASE("sparse noisy top-k router: starts at zero, noise only in training, fixed by the seed") {
  const arma::uword d = 5, E = 6, T = 40;
  NoisyTopKRouter router(d, E, {2, 0.0});
  Rng init(1);
  router.init(init, 0.0);
  ParamList params;
  router.collect(params, "r/");
  CHECK(params.values().is_zero());  // W_g and W_noise start at zero (Shazeer 2017)
  const arma::mat X = Rng(2).normal_matrix(d, T);
  // Outside training: H = 0 for every expert, a full tie: experts 0 and 1 with weight 1/2.
  const Routing eval = router.route(X, {nullptr, false, {}});
  validate(eval.plan);
  for (std::size_t t = 0; t < T; ++t) CHECK(token_experts(eval.plan, t) == Ids{0, 1});
  CHECK(eval.plan.slot_weight[0] == doctest::Approx(0.5));
  // Training: H = eps * softplus(0) spreads tokens over experts; same seed, same plan.
  Rng a(7), b(7), c(8);
  const Routing ra = router.route(X, {&a, true, {}}), rb = router.route(X, {&b, true, {}}),
                rc = router.route(X, {&c, true, {}});
  validate(ra.plan);
  CHECK(moe::test::same_plan(ra.plan, rb.plan));
  CHECK(!moe::test::same_plan(ra.plan, rc.plan));
  CHECK(arma::approx_equal(ra.noisy_logits, ra.noise * std::log(2.0), "absdiff", 1e-12));
  for (std::size_t e = 0; e < E; ++e) CHECK(ra.plan.expert_count(e) > 0);
  CHECK_THROWS_AS(router.route(X, {nullptr, true, {}}), Error);  // training needs an Rng
}

TEST_CASE("sparse gshard router: second expert kept at random with probability 2 w2") {
  const arma::uword T = 4000, E = 4;
  arma::mat Z(E, T, arma::fill::zeros);
  Z.row(1).fill(std::log(3.0));  // g1 = 3/6 on expert 1, g2 = 1/6 on expert 0: w1 = 3/4, w2 = 1/4
  GShardRouter router(E, E, {0.5, 0.0});
  identity_router(router);
  const Routing eval = router.route(Z, {nullptr, false, {}});
  validate(eval.plan);
  CHECK(token_experts(eval.plan, 0) == Ids{1, 0});  // tie among 0, 2, 3: expert 0 second
  CHECK(eval.plan.slot_weight[0] == doctest::Approx(0.75));
  CHECK(eval.plan.slot_weight[1] == doctest::Approx(0.25));
  Rng rng(3);
  const Routing train = router.route(Z, {&rng, true, {}});
  validate(train.plan);
  const double kept = double(train.plan.expert_count(0)) / double(T);
  CHECK(kept == doctest::Approx(0.5).epsilon(0.1));  // keep probability 2 * 1/4
  for (std::size_t t = 0; t < T; ++t) CHECK(train.plan.slot_weight[2 * t] == doctest::Approx(0.75));  // not renormalised again
  // Capacity: all first choices on expert 1, capacity ceil(2 * 4000 / 4 * 0.25) = 500.
  GShardRouter tight(E, E, {0.5, 0.25});
  identity_router(tight);
  Rng draws(4);
  const Routing c = tight.route(Z, {&draws, true, {}});
  validate(c.plan);
  CHECK(c.plan.expert_count(1) == 500);
  CHECK(c.plan.expert_count(0) == 500);  // about 2000 second choices kept, 500 places
  CHECK(c.plan.expert_count(2) == 0);
  // Capacity is a training constraint: evaluation is dropless, so a token's routing never depends on the
  // batch it is evaluated with.
  const Routing e = tight.route(Z, {nullptr, false, {}});
  CHECK(e.plan.capacity == 0);
  CHECK(e.plan.expert_count(1) == T);
  CHECK(e.plan.dropped.empty());
  CHECK_THROWS_AS(GShardRouter(3, 1), Error);
}

TEST_CASE("sparse hash router: a fixed hash of the token id or of a feature") {
  const arma::uword d = 2, E = 8, T = 4000;
  HashRouter router(d, E);
  const arma::mat X = Rng(5).normal_matrix(d, T);
  std::vector<std::uint64_t> ids(T);
  for (std::size_t t = 0; t < T; ++t) ids[t] = t % 100;  // a vocabulary of 100 ids
  const Routing r = router.route(X, {nullptr, true, ids});
  validate(r.plan);
  for (std::size_t t = 100; t < T; ++t) CHECK(r.plan.slot_expert[t] == r.plan.slot_expert[t - 100]);
  CHECK(r.plan.slot_expert[7] == std::int32_t(HashRouter::hash(7) % E));
  for (std::size_t e = 0; e < E; ++e) CHECK(r.plan.expert_count(e) > 0);
  CHECK(r.plan.slot_weight == std::vector<double>(T, 1.0));
  // Without ids: the feature's value decides, so equal values share an expert.
  arma::mat Y = X;
  Y(0, 1) = Y(0, 0);
  const Routing f = router.route(Y, {});
  CHECK(f.plan.slot_expert[0] == f.plan.slot_expert[1]);
  CHECK(router.backward(X, r, {}).is_zero());
  const std::vector<std::uint64_t> too_few(3, 1);
  CHECK_THROWS_AS(router.route(X, {nullptr, true, too_few}), Error);
}

TEST_CASE("sparse expert choice router: each expert takes exactly its capacity, ties to the lower token") {
  const arma::uword T = 6, E = 3;
  arma::mat Z(E, T, arma::fill::zeros);
  Z.row(0).fill(4.0);  // every token wants expert 0
  Z(1, 5) = 4.0;       // token 5 is split between 0 and 1
  ExpertChoiceRouter router(E, E, 1.0);  // C = ceil(6 / 3) = 2
  identity_router(router);
  const Routing r = router.route(Z, {});
  validate(r.plan);
  CHECK(router.tokens_per_expert(T) == 2);
  for (std::size_t e = 0; e < E; ++e) CHECK(r.plan.expert_count(e) == 2);
  // Expert 0: all scores equal except token 5 (lower): tokens 0, 1. Expert 1: token 5, then token 0 (tie
  // among 0..4 to the lowest). Expert 2: tokens 0, 1 (ties).
  CHECK(r.plan.sorted_token == Ids{0, 1, 0, 5, 0, 1});
  CHECK(r.plan.k == 3);  // token 0 got all three experts
  CHECK(token_experts(r.plan, 0) == Ids{0, 1, 2});
  CHECK(token_experts(r.plan, 3) == Ids{-1, -1, -1});  // a token may get no expert
  CHECK(r.plan.dropped.empty());
  const arma::mat P = softmax_cols(Z);
  CHECK(r.plan.slot_weight[0] == doctest::Approx(P(0, 0)));
  CHECK(routing_stats(r.plan).max_mean_load == doctest::Approx(1.0));
  CHECK(routing_stats(r.plan).dropped_fraction == 0.0);
  CHECK(routing_stats(r.plan).dropped_token_fraction == doctest::Approx(0.5));  // tokens 2, 3, 4: no expert
  // Capacity factor E: every expert takes every token.
  ExpertChoiceRouter all(E, E, 3.0);
  identity_router(all);
  const Routing a = all.route(Z, {});
  validate(a.plan);
  CHECK(a.plan.assignments() == E * T);
}
