// The sparse MoE layer (reference implementation): central-difference gradients of the whole layer
// (experts, shared experts, router, inputs) under every router and every auxiliary loss, in double
// precision; its output against a second, dense implementation (every expert on every token, weighted by
// the combine matrix); dropped tokens pass through the residual; the same numbers with 1 and 2 threads.
#include <doctest/doctest.h>

#include <functional>

#include "moe/core/gradient_check.hpp"
#include "moe/core/threads.hpp"
#include "moe/sparse/loss_free_router.hpp"
#include "moe/sparse/sparse_moe_layer.hpp"

using namespace moe;

namespace {

struct LayerCase {
  std::string name;
  SparseLayerSpec spec;
  arma::uword experts = 4;
};

SparseLayerSpec base(const std::string& router) {
  SparseLayerSpec s;
  s.router = router;
  s.model_dim = 3;
  s.ff_dim = 5;
  s.router_init_scale = 1.5;
  return s;
}

std::vector<LayerCase> layer_cases() {
  std::vector<LayerCase> out;
  auto add = [&](std::string name, SparseLayerSpec s, arma::uword E = 4) { out.push_back({std::move(name), s, E}); };
  SparseLayerSpec s = base("topk");
  s.w_importance = 0.7;
  s.z_loss = 0.3;
  add("top-2 + importance + z-loss", s);
  s = base("topk");
  s.top_k = 3;
  s.renormalize = false;
  s.capacity_factor = 0.75;  // drops some slots
  s.ffn_activation = "gelu";
  s.w_importance = 0.5;
  s.switch_alpha = 0.4;
  add("top-3 raw, capacity 0.75 (drops), gelu + importance + switch loss", s);
  s = base("topk");
  s.top_k = 4;
  s.shared_experts = 2;
  add("top-E with 2 shared experts", s);
  s = base("switch");
  s.capacity_factor = 1.0;
  s.switch_alpha = 0.5;
  s.z_loss = 0.2;
  add("switch + switch loss + z-loss", s);
  s = base("noisy-topk");
  s.w_importance = 0.4;
  s.w_load = 0.6;
  add("noisy top-2 + importance + smooth load", s);
  s = base("gshard");
  s.capacity_factor = 1.0;
  s.w_importance = 0.3;
  add("gshard + importance", s);
  s = base("loss-free");
  s.w_importance = 0.3;
  s.switch_alpha = 0.2;
  add("loss-free + importance + switch loss", s);
  s = base("balanced");
  s.z_loss = 0.3;
  add("balanced assignment + z-loss", s);
  s = base("expert-choice");
  s.capacity_factor = 1.5;
  s.w_importance = 0.4;
  s.z_loss = 0.2;
  add("expert choice + importance + z-loss", s);
  s = base("hash");
  add("hash (experts and inputs only)", s);
  s = base("soft");
  s.slots_per_expert = 2;
  s.shared_experts = 1;
  s.ffn_activation = "gelu";
  add("soft, 2 slots per expert, shared expert", s, 3);
  return out;
}

std::vector<std::uint64_t> ids_for(arma::uword T) {
  std::vector<std::uint64_t> ids(T);
  for (arma::uword t = 0; t < T; ++t) ids[t] = 7 * t + 3;
  return ids;
}

}  // namespace

TEST_CASE("sparse layer gradient: every router and every auxiliary loss, in double precision") {
  const arma::uword T = 9;
  for (const LayerCase& c : layer_cases()) {
    CAPTURE(c.name);
    SparseMoeLayer layer(c.spec, c.experts);
    Rng rng(21);
    layer.init(rng);
    if (auto* lf = dynamic_cast<LossFreeRouter*>(layer.router())) lf->set_bias(arma::linspace(-0.3, 0.3, c.experts));
    arma::mat X = rng.normal_matrix(c.spec.model_dim, T), dX;
    const arma::mat coef = Rng(22).normal_matrix(c.spec.model_dim, T);
    ParamList params;
    layer.collect(params, "moe/");
    params.add("X", X, dX);
    const Rng draws(23);
    const std::vector<std::uint64_t> ids = ids_for(T);
    const auto first = [&] {
      Rng r = draws;
      return layer.forward(X, {&r, true, ids});
    }();
    auto loss = [&](bool accumulate) {
      Rng r = draws;
      const MoeForward fwd = layer.forward(X, {&r, true, ids});
      REQUIRE(fwd.routing.plan.slot_expert == first.routing.plan.slot_expert);  // selection unchanged
      if (accumulate) dX += layer.backward(X, fwd, coef);
      return arma::accu(coef % fwd.Y) + fwd.aux.total;
    };
    const GradientCheck check = check_gradient(params, loss, 1e-5, 1e-4);
    if (check.max_relative_error >= 1e-6) {
      const arma::vec rel = arma::abs(check.analytic - check.numeric) /
                            arma::clamp(arma::abs(check.analytic) + arma::abs(check.numeric), 1e-4, arma::datum::inf);
      const arma::uword i = rel.index_max();
      MESSAGE("worst entry " << i << ": analytic " << check.analytic[i] << " numeric " << check.numeric[i]);
    }
    CHECK(check.max_relative_error < 1e-6);
    CHECK(arma::abs(check.analytic).max() > 1e-2);  // not vacuous
    if (c.spec.w_importance + c.spec.w_load + c.spec.switch_alpha + c.spec.z_loss > 0) CHECK(first.aux.total > 0.0);
  }
}

TEST_CASE("sparse layer: output equals every expert run densely and weighted by the combine matrix") {
  const arma::uword T = 13;
  for (const LayerCase& c : layer_cases()) {
    CAPTURE(c.name);
    SparseMoeLayer layer(c.spec, c.experts);
    Rng rng(31);
    layer.init(rng);
    const arma::mat X = rng.normal_matrix(c.spec.model_dim, T);
    Rng r(32);
    const MoeForward fwd = layer.forward(X, {&r, true, ids_for(T)});
    arma::mat expected = X;
    if (c.spec.soft()) {  // Y = X + sum_slots FFN_{slot/p}(X D^T col slot) C(slot, :), written out by hand
      const arma::uword p = c.spec.slots_per_expert;
      for (arma::uword j = 0; j < fwd.combine.n_rows; ++j) {
        arma::vec slot_input(X.n_rows, arma::fill::zeros);
        for (arma::uword t = 0; t < T; ++t) slot_input += fwd.dispatch(j, t) * X.col(t);
        const arma::vec out = layer.expert_bank().forward(j / p, slot_input, nullptr);
        for (arma::uword t = 0; t < T; ++t) expected.col(t) += fwd.combine(j, t) * out;
      }
      // The dispatch rows and combine columns are distributions.
      CHECK(arma::abs(arma::sum(fwd.dispatch, 1) - 1.0).max() < 1e-12);
      CHECK(arma::abs(arma::sum(fwd.combine, 0) - 1.0).max() < 1e-12);
    } else {
      const arma::mat W = layer.combine_weights(fwd);  // E x T, 0 where not routed or dropped
      for (arma::uword t = 0; t < T; ++t)
        for (arma::uword e = 0; e < c.experts; ++e)
          if (W(e, t) != 0.0) expected.col(t) += W(e, t) * layer.expert_bank().forward(e, X.col(t), nullptr);
      // Dropped slots contribute nothing: a token all of whose slots were dropped is its input.
      const RoutingPlan& plan = fwd.routing.plan;
      for (std::size_t t = 0; t < plan.tokens; ++t) {
        bool any = false;
        for (std::size_t s = 0; s < plan.k; ++s) any |= plan.slot_position[t * plan.k + s] >= 0;
        if (!any && !layer.shared_bank()) CHECK(arma::approx_equal(fwd.Y.col(t), X.col(t), "absdiff", 0.0));
      }
    }
    if (FfnExperts* shared = layer.shared_bank())
      for (arma::uword j = 0; j < shared->experts(); ++j) expected += shared->forward(j, X, nullptr);
    CHECK(arma::abs(fwd.Y - expected).max() < 1e-12);
  }
}

TEST_CASE("sparse layer: a capacity overflow drops slots, which pass through the residual") {
  SparseLayerSpec s = base("topk");
  s.top_k = 1;
  s.capacity_factor = 0.5;
  s.router_init_scale = 0.0;  // all logits 0: every token's top-1 is expert 0 (ties to the lower id)
  SparseMoeLayer layer(s, 4);
  Rng rng(41);
  layer.init(rng);
  const arma::mat X = rng.normal_matrix(3, 16);
  const MoeForward fwd = layer.forward(X, {&rng, true, {}});
  const RoutingPlan& plan = fwd.routing.plan;
  CHECK(plan.capacity == 2);  // ceil(1 * 16 / 4 * 0.5)
  CHECK(plan.expert_count(0) == 2);
  CHECK(plan.dropped.size() == 14);
  for (arma::uword t = 2; t < 16; ++t) CHECK(arma::approx_equal(fwd.Y.col(t), X.col(t), "absdiff", 0.0));
  CHECK(layer.stats(fwd).dropped_fraction == doctest::Approx(14.0 / 16.0));
  CHECK(layer.stats(fwd).dropped_token_fraction == doctest::Approx(14.0 / 16.0));  // top-1: slot = token
}

TEST_CASE("sparse layer: the same outputs and gradients with 1 and 2 threads") {
  // 16400 tokens: above the thresholds where expert choice (E T >= 65536) and the routers' random draws
  // (T >= 1024) go parallel.
  const int before = max_threads();
  for (const LayerCase& c : layer_cases()) {
    CAPTURE(c.name);
    arma::mat Y[2], dX[2];
    arma::vec grads[2];
    for (int threads = 1; threads <= 2; ++threads) {
      set_threads(threads);
      SparseMoeLayer layer(c.spec, c.experts);
      Rng rng(51);
      layer.init(rng);
      const arma::uword T = 16400;
      const arma::mat X = rng.normal_matrix(c.spec.model_dim, T);
      ParamList params;
      layer.collect(params, "");
      params.zero_grad();
      Rng r(52);
      const MoeForward fwd = layer.forward(X, {&r, true, ids_for(T)});
      Y[threads - 1] = fwd.Y;
      dX[threads - 1] = layer.backward(X, fwd, arma::sin(X));
      grads[threads - 1] = params.grads();
    }
    set_threads(before);
    CHECK(arma::approx_equal(Y[0], Y[1], "absdiff", 0.0));
    CHECK(arma::approx_equal(dX[0], dX[1], "absdiff", 0.0));
    CHECK(arma::approx_equal(grads[0], grads[1], "absdiff", 0.0));
  }
}

TEST_CASE("soft MoE on hand-made logits: Phi = 0 dispatches the token mean to every slot and combines uniformly") {
  SparseLayerSpec s = base("soft");
  s.slots_per_expert = 2;
  s.router_init_scale = 0.0;  // Phi = 0: every logit 0
  SparseMoeLayer layer(s, 3);
  Rng rng(61);
  layer.init(rng);
  const arma::mat X = rng.normal_matrix(3, 7);
  const MoeForward fwd = layer.forward(X, {&rng, true, {}});
  CHECK(arma::abs(fwd.dispatch - 1.0 / 7.0).max() < 1e-15);
  CHECK(arma::abs(fwd.combine - 1.0 / 6.0).max() < 1e-15);
  // Every slot sees the mean token; each token gets the mean over the 6 slots of the experts' outputs.
  const arma::vec mean = arma::mean(X, 1);
  arma::vec mixed(3, arma::fill::zeros);
  for (arma::uword e = 0; e < 3; ++e) mixed += 2.0 / 6.0 * layer.expert_bank().forward(e, mean, nullptr);
  for (arma::uword t = 0; t < 7; ++t) CHECK(arma::abs(fwd.Y.col(t) - X.col(t) - mixed).max() < 1e-12);
  const RoutingStats st = layer.stats(fwd);
  CHECK(st.cv_load == doctest::Approx(0.0));
  CHECK(arma::abs(st.importance - 7.0 / 3.0).max() < 1e-12);  // each expert: 2 of 6 slots of 7 tokens
}
