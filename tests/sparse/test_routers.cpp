// The routers of the registry on the CPU double backend, fed hand-made logits (W = identity, X = the
// logits, d = E): each router's defining behaviour, ties, capacity, randomness fixed by the seed and
// independent of the thread count, and the registry's entries. (Their gradients: the whole network's
// central differences in tests/models/test_backend_sparse_net.cpp.)
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "moe/backend/backend_registry.hpp"
#include "moe/backend/routing_plan.hpp"
#include "moe/core/threads.hpp"
#include "moe/sparse/moe_layer.hpp"
#include "moe/sparse/router_registry.hpp"

using namespace moe;

namespace {

struct Routed {
  std::vector<std::int32_t> expert;    // k x T
  std::vector<double> weight;          // k x T
  std::vector<std::int64_t> position;  // k x T, -1: dropped or empty
  std::vector<std::int64_t> offsets;   // E + 1
  std::size_t k = 0;
  std::size_t count(std::size_t e) const { return std::size_t(offsets[e + 1] - offsets[e]); }
};

// A registry router on E inputs whose weights make its clean logits X itself.
struct RouterRig {
  std::unique_ptr<Backend> b = make_backend("cpu", "double");
  BackendParams params{*b};
  SparseLayerSpec spec;
  std::size_t E;
  std::unique_ptr<BackendRouter> router;

  RouterRig(SparseLayerSpec s, std::size_t experts) : spec(std::move(s)), E(experts) {
    spec.model_dim = E;
    router = router_entry(spec.router).make(RouterSetup{spec, E, E, params, "router/", false});
    Rng init(1);
    router->init(init, 1.0);
    ParamList list;
    params.collect(list);
    for (const Param& p : list) {
      if (p.name == "router/W" || p.name == "router/W_g") *p.value = arma::eye(E, E);
      if (p.name == "router/W_noise") p.value->zeros();
    }
    params.from_host();
  }

  // Routes the columns of Z (E x T) as one batch; capacity from spec.capacity_factor in training.
  Routed route(const arma::mat& Z, bool training, std::uint64_t noise_seed = 5,
               const std::vector<std::int64_t>& ids = {}) {
    const std::size_t T = Z.n_cols;
    Tensor X = b->tensor(E, T), token_ids = b->tensor(ids.size(), 1, DType::i64);
    if (T > 0) b->upload(X, Z.memptr());
    if (!ids.empty()) b->upload(token_ids, ids.data());
    DevicePlan plan;
    plan.tokens = T, plan.experts = E, plan.k = router->k();
    plan.capacity = training ? expert_capacity(T, E, plan.k, spec.capacity_factor) : 0;
    plan.slot_expert = b->tensor(plan.k, T, DType::i32);
    plan.slot_weight = b->tensor(plan.k, T);
    Rng noise(noise_seed);
    router->route(X, BackendRouteContext{training, &noise, nullptr, ids.empty() ? nullptr : &token_ids}, plan);
    b->build_plan(plan);
    Routed r;
    r.k = plan.k;
    r.expert.resize(plan.k * T);
    r.position.resize(plan.k * T);
    r.offsets.resize(E + 1);
    if (T > 0) b->download(plan.slot_expert, r.expert.data()), b->download(plan.slot_position, r.position.data());
    b->download(plan.expert_offsets, r.offsets.data());
    r.weight = T > 0 ? b->to_host(plan.slot_weight) : std::vector<double>{};
    if (router_entry(spec.router).traits.keeps_step_state) router->end_step(plan, nullptr);
    return r;
  }
};

SparseLayerSpec spec_of(const std::string& router, std::size_t k = 2, double capacity_factor = 0.0) {
  SparseLayerSpec s;
  s.router = router, s.top_k = k, s.capacity_factor = capacity_factor;
  return s;
}

arma::vec softmax(const arma::vec& z) {
  const arma::vec e = arma::exp(z - z.max());
  return e / arma::accu(e);
}

// A layer of E experts with its parameters drawn by init(seed), run in evaluation mode on X.
struct LayerRig {
  std::unique_ptr<Backend> b = make_backend("cpu", "double");
  BackendParams params{*b};
  MoeLayer layer;
  LayerRig(const SparseLayerSpec& s, std::size_t E, std::uint64_t seed) : layer(s, E, params, "") {
    Rng rng(seed);
    layer.init(rng);
    params.from_host();
  }
  arma::mat forward(const arma::mat& X) {
    Tensor Xt = b->tensor(X.n_rows, X.n_cols), Y;
    b->upload(Xt, X.memptr());
    layer.forward(Xt, false, Y);
    return arma::mat(b->to_host(Y).data(), X.n_rows, X.n_cols);
  }
  // FFN_e(X) of expert e, by Armadillo products (relu).
  arma::mat expert(std::size_t e, const arma::mat& X) {
    const std::string p = "expert" + std::to_string(e) + "/";
    arma::mat pre = params.host(p + "W1") * X;
    pre.each_col() += params.host(p + "b1");
    arma::mat out = params.host(p + "W2") * arma::mat(arma::clamp(pre, 0.0, arma::datum::inf));
    out.each_col() += params.host(p + "b2");
    return out;
  }
};

}  // namespace

TEST_CASE("routers: every registry entry is complete, and the routers the docs name are there") {
  for (const RouterEntry& e : RouterRegistry::instance().entries()) {
    CAPTURE(e.name);
    CHECK(!e.help.empty());
    CHECK(bool(e.make) == e.traits.routed);  // soft MoE alone has no router: the layer mixes tokens itself
    for (const std::string& f : e.flags)
      CHECK(std::find(sparse_layer_flags().begin(), sparse_layer_flags().end(), f) != sparse_layer_flags().end());
  }
  for (const char* name : {"topk", "switch", "gshard", "noisy-topk", "hash", "expert-choice", "balanced", "soft",
                           "loss-free", "sigmoid-topk"})
    CHECK(RouterRegistry::instance().find(name) != nullptr);
}

TEST_CASE("routers: top-k takes the k largest logits, ties to the lower expert, weights renormalised") {
  RouterRig rig(spec_of("topk", 2), 4);
  arma::mat Z = {{1.0, 0.0}, {3.0, 2.0}, {1.0, 2.0}, {0.5, -1.0}};  // token 0: 1 > 0 = 2 tie; token 1: 1 = 2 tie
  const Routed r = rig.route(Z, true);
  CHECK(r.expert == std::vector<std::int32_t>{1, 0, 1, 2});
  const arma::vec p0 = softmax(Z.col(0)), p1 = softmax(Z.col(1));
  CHECK(r.weight[0] == doctest::Approx(p0[1] / (p0[1] + p0[0])).epsilon(1e-14));
  CHECK(r.weight[0] + r.weight[1] == doctest::Approx(1.0).epsilon(1e-14));
  CHECK(r.weight[2] == doctest::Approx(0.5).epsilon(1e-14));
  // k = E: every token on every expert.
  RouterRig all(spec_of("topk", 4), 4);
  const Routed a = all.route(Z, true);
  for (std::size_t e = 0; e < 4; ++e) CHECK(a.count(e) == 2);
  (void)p1;
}

// Every registered per-token router that reads logits (a new one is checked without editing this file).
std::vector<std::string> per_token_logit_routers() {
  std::vector<std::string> out;
  for (const RouterEntry& e : RouterRegistry::instance().entries())
    if (e.traits.routed && !e.traits.batch_wide_in_training && e.traits.has_logits) out.push_back(e.name);
  return out;
}

TEST_CASE("routers: every token wanting one expert overflows its capacity and leaves the others empty") {
  const std::vector<std::string> routers = per_token_logit_routers();
  CHECK(routers.size() >= 6);
  for (const std::string& router : routers) {
    CAPTURE(router);
    RouterRig rig(spec_of(router, 1, 1.0), 4);
    arma::mat Z = Rng(2).normal_matrix(4, 40, 0.1);
    Z.row(3) += 5.0;
    const Routed r = rig.route(Z, true);
    const std::size_t C = expert_capacity(40, 4, r.k, 1.0);
    CHECK(r.count(3) == C);  // the first C tokens' first slots
    for (std::size_t t = 0; t < 40; ++t) CHECK((r.position[t * r.k] >= 0) == (t < C));
    if (r.k == 1)
      for (std::size_t e = 0; e < 3; ++e) CHECK(r.count(e) == 0);
  }
}

TEST_CASE("routers: switch weighs its one expert by the raw softmax probability") {
  RouterRig rig(spec_of("switch", 1), 3);
  const arma::mat Z = Rng(4).normal_matrix(3, 6);
  const Routed r = rig.route(Z, true);
  for (std::size_t t = 0; t < 6; ++t) {
    const arma::vec p = softmax(Z.col(t));
    CHECK(r.expert[t] == std::int32_t(p.index_max()));
    CHECK(r.weight[t] == doctest::Approx(p.max()).epsilon(1e-14));
  }
}

TEST_CASE("routers: noisy top-k starts at zero, adds noise only in training, fixed by the seed") {
  SparseLayerSpec s = spec_of("noisy-topk", 2);
  CHECK(s.init_scale() == 0.0);  // Shazeer's zero start
  RouterRig rig(s, 6);
  const arma::mat Z = Rng(6).normal_matrix(6, 300);
  // W_noise = 0: the noise scale is softplus(0) = log 2, so training moves some choices; evaluation does not.
  const Routed eval = rig.route(Z, false), a = rig.route(Z, true, 5), b = rig.route(Z, true, 5), c = rig.route(Z, true, 6);
  std::size_t moved = 0;
  for (std::size_t t = 0; t < 300; ++t) {
    arma::uvec order = arma::sort_index(Z.col(t), "descend");
    CHECK(eval.expert[2 * t] == std::int32_t(order[0]));
    moved += a.expert[2 * t] != eval.expert[2 * t];
  }
  CHECK(moved > 30);
  CHECK(a.expert == b.expert);
  CHECK(a.expert != c.expert);
}

TEST_CASE("routers: gshard keeps the second expert with probability min(1, w2 / threshold)") {
  SparseLayerSpec s = spec_of("gshard");
  s.gshard_threshold = 0.5;
  RouterRig rig(s, 4);
  const std::size_t T = 4000;
  arma::mat Z(4, T, arma::fill::zeros);
  Z.row(0).fill(1.0);
  Z.row(1).fill(0.2);  // w2 = p1 / (p0 + p1) for every token
  const Routed r = rig.route(Z, true);
  const double p = std::exp(0.2) / (std::exp(1.0) + std::exp(0.2)), keep = std::min(1.0, p / 0.5);
  double kept = 0;
  for (std::size_t t = 0; t < T; ++t) {
    CHECK(r.expert[2 * t] == 0);
    kept += r.expert[2 * t + 1] == 1;
  }
  CHECK(std::abs(kept / double(T) - keep) < 4.0 * std::sqrt(keep * (1 - keep) / double(T)));
  const Routed eval = rig.route(Z, false);  // evaluation keeps both
  for (std::size_t t = 0; t < T; ++t) CHECK(eval.expert[2 * t + 1] == 1);
}

TEST_CASE("routers: hash routes each id to a fixed expert with weight 1") {
  RouterRig rig(spec_of("hash"), 5);
  const std::vector<std::int64_t> ids = {7, 3, 7, 11, 3, 12345};
  const Routed r = rig.route(arma::mat(5, 6, arma::fill::zeros), true, 5, ids);
  CHECK(r.expert[0] == r.expert[2]);
  CHECK(r.expert[1] == r.expert[4]);
  for (const double w : r.weight) CHECK(w == 1.0);
  const Routed again = rig.route(arma::mat(5, 6, arma::fill::randn), false, 9, ids);  // logits play no part
  CHECK(again.expert == r.expert);
}

TEST_CASE("routers: expert choice gives each expert exactly its capacity of the batch's tokens") {
  SparseLayerSpec s = spec_of("expert-choice", 2, 1.5);
  RouterRig rig(s, 4);
  const arma::mat Z = Rng(8).normal_matrix(4, 30);
  const Routed r = rig.route(Z, true);
  const std::size_t c = expert_capacity(30, 4, 1, 1.5);
  for (std::size_t e = 0; e < 4; ++e) CHECK(r.count(e) == c);
}

TEST_CASE("routers: balanced assignment fills every expert evenly in training, argmax in evaluation") {
  RouterRig rig(spec_of("balanced"), 4);
  arma::mat Z = Rng(3).normal_matrix(4, 40, 0.3);
  Z.row(2) += 2.0;  // every token prefers expert 2
  const Routed train = rig.route(Z, true);
  for (std::size_t e = 0; e < 4; ++e) CHECK(train.count(e) == 10);
  CHECK(train.weight[0] == doctest::Approx(1.0 / (1.0 + std::exp(-Z(arma::uword(train.expert[0]), 0)))).epsilon(1e-14));
  const Routed eval = rig.route(Z, false);
  CHECK(eval.count(2) == 40);
}

TEST_CASE("routers: the loss-free bias selects but does not weigh, and its sign updates balance the load") {
  SparseLayerSpec s = spec_of("loss-free", 1);
  s.bias_rate = 0.05;
  RouterRig rig(s, 4);
  arma::mat Z = Rng(5).normal_matrix(4, 64, 1.0);
  Z.row(0) += 1.5;  // expert 0 is most tokens' favourite
  const Routed first = rig.route(Z, true);  // bias 0; the step moves the bias against expert 0
  CHECK(first.count(0) > 40);
  Routed r = first;
  double later = 0;  // expert 0's mean load over steps 21 to 60
  for (int step = 1; step <= 60; ++step) {
    r = rig.route(Z, true);
    if (step > 20) later += double(r.count(0)) / 40.0;
  }
  CHECK(later < 24.0);  // near the even share of 16
  // The weight is still the softmax probability of the chosen expert, not biased.
  for (std::size_t t = 0; t < 64; ++t) {
    const arma::vec p = softmax(Z.col(t));
    CHECK(r.weight[t] == doctest::Approx(1.0).epsilon(1e-14));  // top-1 renormalised over itself
    (void)p;
  }
  SparseLayerSpec raw = s;
  raw.renormalize = false;
  RouterRig unnormalised(raw, 4);
  const Routed u = unnormalised.route(Z, true);
  for (std::size_t t = 0; t < 64; ++t)
    CHECK(u.weight[t] == doctest::Approx(softmax(Z.col(t))[arma::uword(u.expert[t])]).epsilon(1e-14));
}

TEST_CASE("routers: the same seed gives the same plan with 1 and 2 threads, every registered router") {
  std::vector<std::int64_t> ids(3000);
  for (std::size_t t = 0; t < ids.size(); ++t) ids[t] = std::int64_t(t * 7919);
  for (const RouterEntry& entry : RouterRegistry::instance().entries()) {
    if (!entry.traits.routed) continue;
    const std::string& router = entry.name;
    CAPTURE(router);
    const arma::mat Z = Rng(9).normal_matrix(8, 3000);
    const std::vector<std::int64_t> token_ids = entry.traits.needs_token_ids ? ids : std::vector<std::int64_t>{};
    set_threads(1);
    RouterRig one(spec_of(router, 2, 1.0), 8);
    const Routed a = one.route(Z, true, 5, token_ids);
    set_threads(2);
    RouterRig two(spec_of(router, 2, 1.0), 8);
    const Routed b = two.route(Z, true, 5, token_ids);
    set_threads(0);
    CHECK(a.expert == b.expert);
    CHECK(a.position == b.position);
    CHECK(a.weight == b.weight);
  }
}

TEST_CASE("sparse layer: the output is every expert run densely, weighted by the combine matrix") {
  SparseLayerSpec s = spec_of("topk", 2, 0.0);
  s.model_dim = 5, s.ff_dim = 7, s.router_init_scale = 1.0;
  LayerRig rig(s, 3, 4);
  const arma::mat X = Rng(5).normal_matrix(5, 9), Y = rig.forward(X);
  const arma::mat G = rig.layer.gate();  // E x T combine weights
  arma::mat want = X;
  for (std::size_t e = 0; e < 3; ++e) want += rig.expert(e, X).each_row() % G.row(arma::uword(e));
  CHECK(arma::approx_equal(Y, want, "absdiff", 1e-12));
  for (arma::uword t = 0; t < 9; ++t) CHECK(arma::accu(G.col(t) > 0.0) == 2);
}

TEST_CASE("soft MoE with Phi = 0 dispatches the token mean to every slot and combines them uniformly") {
  SparseLayerSpec s = spec_of("soft");
  s.model_dim = 4, s.ff_dim = 6, s.slots_per_expert = 2, s.router_init_scale = 0.0;
  LayerRig rig(s, 3, 2);
  const arma::mat X = Rng(3).normal_matrix(4, 5), Y = rig.forward(X);
  const arma::vec mean = arma::mean(X, 1);
  arma::vec mix(4, arma::fill::zeros);
  for (std::size_t e = 0; e < 3; ++e) mix += rig.expert(e, mean) / 3.0;  // each expert's 2 of the 6 slots
  for (arma::uword t = 0; t < 5; ++t) CHECK(arma::approx_equal(Y.col(t), X.col(t) + mix, "absdiff", 1e-12));
}
