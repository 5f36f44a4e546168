// Central-difference checks in double precision of every balancing loss: w.r.t. the router logits
// directly, and through the routers' parameters and tokens (importance through the combine weights,
// smooth load through W_g and W_noise, Switch and z-loss through W).
#include <doctest/doctest.h>

#include "moe/core/gradient_check.hpp"
#include "moe/sparse/balance_losses.hpp"
#include "moe/sparse/gshard_router.hpp"
#include "moe/sparse/noisy_topk_router.hpp"
#include "moe/sparse/smooth_load_loss.hpp"
#include "moe/sparse/softmax_topk_router.hpp"
#include "moe/sparse/switch_router.hpp"

using namespace moe;

namespace {

constexpr double tolerance = 1e-6;
constexpr double floor_value = 1e-4;  // see test_router_gradients.cpp: round-off of central differences

// Checks loss(routing) through router: its parameters and X, with the draws replayed from `draws`.
GradientCheck check_through_router(Router& router, arma::mat& X, const std::function<RouterLoss(const Routing&)>& f) {
  arma::mat dX;
  ParamList params;
  router.collect(params, "r/");
  params.add("X", X, dX);
  const Rng draws(21);
  auto loss = [&](bool accumulate) {
    Rng r = draws;
    const Routing routing = router.route(X, {&r, true, {}});
    const RouterLoss l = f(routing);
    if (accumulate) dX += router.backward(X, routing, l.grad);
    return l.value;
  };
  return check_gradient(params, loss, 1e-5, floor_value);
}

}  // namespace

TEST_CASE("sparse gradient: cv squared") {
  arma::mat x = Rng(1).uniform_matrix(6, 1, 0.5, 3.0), dx;
  ParamList params;
  params.add("x", x, dx);
  auto loss = [&](bool accumulate) {
    arma::vec g;
    const double v = cv_squared(arma::vec(x), &g);
    if (accumulate) dx += g;
    return v;
  };
  CHECK(check_gradient(params, loss, 1e-5, floor_value).max_relative_error < tolerance);
  CHECK(cv_squared(arma::vec{2.0, 2.0, 2.0}) == doctest::Approx(0.0));
  CHECK(cv_squared(arma::vec{0.0, 4.0}) == doctest::Approx(1.0));  // std 2, mean 2
  CHECK(cv_squared(arma::vec{5.0}) == 0.0);
}

TEST_CASE("sparse gradient: switch loss and z-loss with respect to the logits") {
  const arma::uword E = 5, T = 9;
  Routing r;
  r.logits = Rng(2).normal_matrix(E, T, 2.0);
  arma::mat dZ;
  ParamList params;
  params.add("Z", r.logits, dZ);
  for (auto* f : {&switch_aux_loss, &z_loss}) {
    auto loss = [&](bool accumulate) {
      const RouterLoss l = (*f)(r, nullptr);
      if (accumulate) dZ += l.grad.dlogits;
      return l.value;
    };
    CHECK(check_gradient(params, loss, 1e-5, floor_value).max_relative_error < tolerance);
  }
  // Known values: uniform logits give f = P = 1/E, so the Switch loss is 1; z-loss is log(E)^2.
  r.logits.zeros();
  CHECK(switch_aux_loss(r).value == doctest::Approx(1.0));
  CHECK(z_loss(r).value == doctest::Approx(std::log(double(E)) * std::log(double(E))));
}

TEST_CASE("sparse gradient: importance loss through top-k, noisy top-k and gshard combine weights") {
  const arma::uword d = 4, E = 6, T = 13;
  SoftmaxTopKRouter topk(d, E, {2, true, 0.0});
  NoisyTopKRouter noisy(d, E, {2, 0.0});
  GShardRouter gshard(d, E, {0.5, 1.0});
  for (Router* router : std::initializer_list<Router*>{&topk, &noisy, &gshard}) {
    CAPTURE(router->kind());
    Rng rng(3);
    router->init(rng, 1.5);
    arma::mat X = rng.normal_matrix(d, T);
    const GradientCheck c = check_through_router(*router, X, [](const Routing& r) { return importance_loss(r.plan); });
    CHECK(c.max_relative_error < tolerance);
    CHECK(arma::abs(c.analytic).max() > 1e-4);
  }
}

TEST_CASE("sparse gradient: smooth load loss through W_g, W_noise and the tokens") {
  const arma::uword d = 3, E = 5, T = 17;
  for (arma::uword k : {1u, 2u, 4u}) {
    CAPTURE(k);
    NoisyTopKRouter router(d, E, {k, 0.0});
    Rng rng(4);
    router.init(rng, 1.0);
    arma::mat X = rng.normal_matrix(d, T);
    const GradientCheck c = check_through_router(router, X, [](const Routing& r) { return smooth_load_loss(r); });
    CHECK(c.max_relative_error < tolerance);
    CHECK(arma::abs(c.analytic).max() > 1e-4);
  }
  // k = E: every expert always stays in the top k, P = 1, no loss.
  NoisyTopKRouter all(d, E, {E, 0.0});
  Rng rng(5);
  all.init(rng, 1.0);
  Rng draws(6);
  const Routing r = all.route(rng.normal_matrix(d, T), {&draws, true, {}});
  CHECK(arma::all(arma::vectorise(smooth_load_probabilities(r)) == 1.0));
  CHECK(smooth_load_loss(r).value == 0.0);
}

TEST_CASE("sparse smooth load probabilities match a Monte Carlo estimate") {
  // P(t, i) is the chance that expert i stays in the top k when only its own noise is redrawn.
  const arma::uword d = 3, E = 4, k = 2;
  NoisyTopKRouter router(d, E, {k, 0.0});
  Rng rng(8);
  router.init(rng, 1.0);
  const arma::mat X = rng.normal_matrix(d, 1);
  Rng draws(9);
  const Routing r = router.route(X, {&draws, true, {}});
  const arma::mat P = smooth_load_probabilities(r);
  Rng mc(10);
  const int trials = 20000;
  for (arma::uword i = 0; i < E; ++i) {
    int stays = 0;
    for (int n = 0; n < trials; ++n) {
      arma::vec h = r.noisy_logits.col(0);
      h[i] = r.logits(i, 0) + mc.normal() * std::log1p(std::exp(r.noise_logits(i, 0)));
      arma::uword above = 0;  // entries strictly above h[i]; ties have probability 0
      for (arma::uword j = 0; j < E; ++j) above += (j != i && h[j] > h[i]) ? 1 : 0;
      stays += above < k ? 1 : 0;
    }
    CAPTURE(i);
    CHECK(std::abs(double(stays) / trials - P(i, 0)) < 0.015);  // about 4 standard errors
  }
}

TEST_CASE("sparse gradient: switch loss and z-loss through the switch router, all losses together") {
  const arma::uword d = 4, E = 4, T = 10;
  SwitchRouter sw(d, E, 1.0);
  Rng rng(7);
  sw.init(rng, 1.5);
  arma::mat X = rng.normal_matrix(d, T);
  CHECK(check_through_router(sw, X, [](const Routing& r) { return switch_aux_loss(r); }).max_relative_error < tolerance);
  CHECK(check_through_router(sw, X, [](const Routing& r) { return z_loss(r); }).max_relative_error < tolerance);
  // Noisy top-k with every loss at once, as a training step would sum them.
  NoisyTopKRouter noisy(d, E, {2, 1.25});
  noisy.init(rng, 1.0);
  auto all = [](const Routing& r) {
    RouterLoss total;
    for (auto [l, w] : {std::pair{importance_loss(r.plan), 0.1}, std::pair{smooth_load_loss(r), 0.1},
                        std::pair{switch_aux_loss(r), 0.01}, std::pair{z_loss(r), 0.001}}) {
      total.value += w * l.value;
      accumulate(total.grad, l.grad, w);
    }
    return total;
  };
  CHECK(check_through_router(noisy, X, all).max_relative_error < tolerance);
}
