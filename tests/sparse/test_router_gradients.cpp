// Central-difference checks in double precision of each differentiable router's combine weights, with
// respect to the router's parameters and to the tokens X. The loss is sum_s c_s w_s with random c, which
// exercises every slot weight; noise and random routing are replayed from a copied Rng, so the selection
// is the same in every evaluation (it is piecewise constant; random logits keep it away from ties).
#include <doctest/doctest.h>

#include <functional>
#include <memory>

#include "moe/core/gradient_check.hpp"
#include "moe/sparse/balanced_router.hpp"
#include "moe/sparse/expert_choice_router.hpp"
#include "moe/sparse/gshard_router.hpp"
#include "moe/sparse/loss_free_router.hpp"
#include "moe/sparse/noisy_topk_router.hpp"
#include "moe/sparse/softmax_topk_router.hpp"
#include "moe/sparse/switch_router.hpp"

using namespace moe;

namespace {

constexpr double tolerance = 1e-6;
// Relative errors are taken against max(|a| + |n|, floor): central differences carry a round-off of about
// 1e-16 |L| / h = 1e-11, so entries whose true gradient is 0 (an expert no token chose) need a floor
// well above it. 1e-4 still demands 1e-10 absolute agreement there.
constexpr double floor_value = 1e-4;

struct Case {
  std::string name;
  std::function<std::unique_ptr<Router>(arma::uword d, arma::uword E)> make;
  bool has_gradient = true;  // false: top-1 renormalised over itself, whose weight is always 1
};

std::vector<Case> differentiable_routers() {
  return {
      {"top-1 renormalised", [](auto d, auto E) { return std::make_unique<SoftmaxTopKRouter>(d, E, SoftmaxTopKOptions{1, true, 0.0}); }, false},
      {"top-2 renormalised", [](auto d, auto E) { return std::make_unique<SoftmaxTopKRouter>(d, E, SoftmaxTopKOptions{2, true, 0.0}); }},
      {"top-3 raw, capacity 0.75", [](auto d, auto E) { return std::make_unique<SoftmaxTopKRouter>(d, E, SoftmaxTopKOptions{3, false, 0.75}); }},
      {"top-E", [](auto d, auto E) { return std::make_unique<SoftmaxTopKRouter>(d, E, SoftmaxTopKOptions{E, true, 0.0}); }},
      {"switch, capacity 1.0", [](auto d, auto E) { return std::make_unique<SwitchRouter>(d, E, 1.0); }},
      {"noisy top-2", [](auto d, auto E) { return std::make_unique<NoisyTopKRouter>(d, E, NoisyTopKOptions{2, 0.0}); }},
      {"noisy top-1, capacity 1.0", [](auto d, auto E) { return std::make_unique<NoisyTopKRouter>(d, E, NoisyTopKOptions{1, 1.0}); }, false},
      {"gshard", [](auto d, auto E) { return std::make_unique<GShardRouter>(d, E, GShardOptions{0.5, 1.0}); }},
      {"loss-free with a bias", [](auto d, auto E) {
         auto r = std::make_unique<LossFreeRouter>(d, E, LossFreeOptions{2, true, 1e-3, 0.0});
         r->set_bias(arma::linspace(-0.2, 0.2, E));
         return r;
       }},
      {"balanced assignment", [](auto d, auto E) { return std::make_unique<BalancedRouter>(d, E); }},
      {"expert choice", [](auto d, auto E) { return std::make_unique<ExpertChoiceRouter>(d, E, 2.0); }},
  };
}

}  // namespace

TEST_CASE("sparse gradient: combine weights of every differentiable router") {
  const arma::uword d = 4, E = 5, T = 11;
  for (const Case& c : differentiable_routers()) {
    CAPTURE(c.name);
    auto router = c.make(d, E);
    Rng rng(11);
    router->init(rng, 1.5);
    arma::mat X = rng.normal_matrix(d, T), dX;
    ParamList params;
    router->collect(params, "r/");
    params.add("X", X, dX);  // dL/dX through the same checker
    const Rng draws(12);
    const Routing at_start = [&] {
      Rng r = draws;
      return router->route(X, {&r, true, {}});
    }();
    validate(at_start.plan);
    const arma::vec weight_coef = Rng(13).normal_matrix(at_start.plan.slot_weight.size(), 1);
    auto loss = [&](bool accumulate) {
      Rng r = draws;
      const Routing routing = router->route(X, {&r, true, {}});
      REQUIRE(routing.plan.slot_expert == at_start.plan.slot_expert);  // the selection did not move
      double value = 0.0;
      for (std::size_t i = 0; i < routing.plan.slot_weight.size(); ++i) value += weight_coef[i] * routing.plan.slot_weight[i];
      if (accumulate) dX += router->backward(X, routing, RouterGrad{weight_coef, {}, {}});
      return value;
    };
    const GradientCheck check = check_gradient(params, loss, 1e-5, floor_value);
    if (check.max_relative_error >= tolerance) {
      const arma::vec rel = arma::abs(check.analytic - check.numeric) /
                            arma::clamp(arma::abs(check.analytic) + arma::abs(check.numeric), 1e-8, arma::datum::inf);
      const arma::uword i = rel.index_max();
      MESSAGE("worst entry " << i << " of " << check.analytic.n_elem << ": analytic " << check.analytic[i] << " numeric " << check.numeric[i]);
    }
    CHECK(check.max_relative_error < tolerance);
    if (c.has_gradient) CHECK(arma::abs(check.analytic).max() > 1e-3);  // the check is not vacuous
    else CHECK(arma::abs(check.numeric).max() < 1e-9);
  }
}
