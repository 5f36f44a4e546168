// Loss-free bias balancing on hand-made logits: the bias changes the selection but not the weights, and
// the sign update moves an imbalanced router towards balance.
#include <doctest/doctest.h>

#include "sparse/sparse_test_util.hpp"

#include "moe/core/error.hpp"
#include "moe/sparse/loss_free_router.hpp"
#include "moe/sparse/routing_stats.hpp"

using namespace moe;
using moe::test::identity_router;
using moe::test::token_experts;
using Ids = std::vector<std::int32_t>;

TEST_CASE("sparse loss-free router: the bias selects, the scores weigh") {
  const arma::mat Z = arma::vec{2.0, 1.0, 0.0};  // one token: P = softmax(2, 1, 0)
  LossFreeRouter router(3, 3, {1, false, 1e-3, 0.0});
  identity_router(router);
  const Routing plain = router.route(Z, {});
  validate(plain.plan);
  CHECK(token_experts(plain.plan, 0) == Ids{0});
  router.set_bias(arma::vec{0.0, 0.0, 1.0});  // P(2) + 1 beats P(0) ~ 0.665
  const Routing biased = router.route(Z, {});
  CHECK(token_experts(biased.plan, 0) == Ids{2});
  CHECK(biased.plan.slot_weight[0] == doctest::Approx(1.0 / (std::exp(2.0) + std::exp(1.0) + 1.0)));
  CHECK_THROWS_AS(router.set_bias(arma::vec{0.0, 1.0}), Error);
}

TEST_CASE("sparse loss-free router: sign updates of the bias balance the load") {
  const arma::uword E = 4, T = 400;
  arma::mat Z(E, T, arma::fill::zeros);
  Z.row(0).fill(1.0);  // every token prefers expert 0
  Z += Rng(1).normal_matrix(E, T, 0.3);
  LossFreeRouter router(E, E, {1, false, 1e-2, 0.0});
  identity_router(router);
  const double before = routing_stats(router.route(Z, {}).plan).max_mean_load;
  for (int step = 0; step < 200; ++step) router.end_step(router.route(Z, {}).plan, nullptr);
  const double after = routing_stats(router.route(Z, {}).plan).max_mean_load;
  CHECK(before > 3.0);
  CHECK(after < 1.3);
  CHECK(router.bias()[0] < 0.0);  // the favourite expert is pushed down
}
