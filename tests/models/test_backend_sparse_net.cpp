// The sparse network on the compute backend: central differences of the whole network in double for every
// router setting, Adam steps in float against double, the Model interface's steps against the backend's,
// and upcycling.
#include <doctest/doctest.h>

#include "models/problems.hpp"
#include "moe/backend/backend_registry.hpp"
#include "moe/core/gradient_check.hpp"
#include "moe/core/threads.hpp"
#include "moe/models/sparse_net.hpp"
#include "moe/sparse/router_registry.hpp"
#include "moe/train/optimizer.hpp"

using namespace moe;

namespace {

ModelSpec spec_for(const std::string& router, Task task = Task::classification) {
  ModelSpec s;
  s.kind = "sparse";
  s.task = task;
  s.inputs = 3;
  s.outputs = task == Task::classification ? 4 : 2;
  s.experts = 4;
  s.sparse.router = router;
  s.sparse.model_dim = 5;
  s.sparse.ff_dim = 6;
  s.sparse.router_init_scale = 1.0;
  return s;
}

std::vector<ModelSpec> cases() {
  std::vector<ModelSpec> out;
  ModelSpec s = spec_for("topk");
  s.sparse.w_importance = 0.5;
  s.sparse.capacity_factor = 1.0;  // drops in training
  out.push_back(s);
  s = spec_for("switch", Task::regression);
  s.sparse.switch_alpha = 0.1;
  s.sparse.z_loss = 0.01;
  s.sparse.shared_experts = 2;
  out.push_back(s);
  s = spec_for("loss-free");
  s.sparse.ffn_activation = "gelu";
  out.push_back(s);
  s = spec_for("sigmoid-topk");
  s.sparse.z_loss = 0.01;
  out.push_back(s);
  out.push_back(spec_for("hash"));
  s = spec_for("soft");
  s.sparse.slots_per_expert = 2;
  s.sparse.shared_experts = 1;
  out.push_back(s);
  s = spec_for("balanced");
  s.sparse.z_loss = 0.01;
  out.push_back(s);
  s = spec_for("expert-choice");
  s.sparse.capacity_factor = 1.5;
  s.sparse.z_loss = 0.01;
  out.push_back(s);
  s = spec_for("gshard");
  s.sparse.gshard_threshold = 0.3;
  s.sparse.capacity_factor = 1.5;
  s.sparse.switch_alpha = 0.1;
  out.push_back(s);
  s = spec_for("noisy-topk");
  s.sparse.w_importance = 0.5;
  s.sparse.w_load = 0.5;
  s.sparse.router_init_scale = 1.0;
  out.push_back(s);
  s = spec_for("topk");
  s.sparse.renormalize = false;
  out.push_back(s);
  return out;
}

}  // namespace

TEST_CASE("backend sparse net: central differences of the whole network in double") {
  for (ModelSpec spec : cases()) {
    CAPTURE(spec.sparse.router);
    spec.sparse.capacity_factor = 0.0;  // a drop decided by a perturbation would break the difference
    SparseNet net(spec, make_backend("cpu", "double"));
    Rng rng(7);
    net.init(rng);
    const test::Problem p = test::make_problem(3, spec.outputs, 20, spec.task == Task::classification, 8);
    ParamList params;
    net.collect(params);
    const GradientCheck check = check_gradient(params, [&](bool g) { return net.loss(p.X, p.Y, g); }, 1e-5, 1e-4);
    CHECK(check.max_relative_error < 1e-6);
    CHECK(arma::abs(check.analytic).max() > 1e-2);
  }
}

TEST_CASE("sparse net conformance: every registered router's whole network against central differences") {
  for (const RouterEntry& entry : RouterRegistry::instance().entries()) {
    CAPTURE(entry.name);
    ModelSpec spec = spec_for(entry.name);
    spec.sparse.top_k = 2;
    if (entry.traits.has_logits) spec.sparse.z_loss = 0.01;
    SparseNet net(spec, make_backend("cpu", "double"));
    Rng rng(3);
    net.init(rng);
    const test::Problem p = test::make_problem(3, spec.outputs, 16, true, 4);
    ParamList params;
    net.collect(params);
    const GradientCheck check = check_gradient(params, [&](bool g) { return net.loss(p.X, p.Y, g); }, 1e-5, 1e-4);
    CHECK(check.max_relative_error < 1e-6);
  }
}

TEST_CASE("backend sparse net: Adam steps in float stay within float tolerance of double") {
  for (const ModelSpec& spec : cases()) {
    CAPTURE(spec.sparse.router);
    SparseNet d(spec, make_backend("cpu", "double")), f(spec, make_backend("cpu", "float"));
    Rng r1(9), r2(9);
    d.init(r1);
    f.init(r2);
    d.start({"adam", 1e-2});
    f.start({"adam", 1e-2});
    const test::Problem p = test::make_problem(3, spec.outputs, 40, spec.task == Task::classification, 10);
    for (int step = 0; step < 5; ++step) {
      d.step(p.X, p.Y);
      f.step(p.X, p.Y);
    }
    double sf = 0.0, sd = 0.0;
    f.add_loss_sums(sf);
    d.add_loss_sums(sd);
    CHECK(sf == doctest::Approx(sd).epsilon(1e-5));
    d.to_host();
    f.to_host();
    ParamList a, b;
    d.collect_state(a);
    f.collect_state(b);
    for (std::size_t i = 0; i < a.size(); ++i) {
      CAPTURE(a.items()[i].name);
      const double scale = std::max(1.0, arma::abs(*a.items()[i].value).max());
      CHECK(arma::abs(*a.items()[i].value - *b.items()[i].value).max() / scale < 1e-4);
    }
  }
}

TEST_CASE("backend sparse net: upcycled experts that copy the dense FFN reproduce the dense network") {
  ModelSpec dense_spec = spec_for("topk"), sparse_spec = spec_for("topk");
  dense_spec.experts = 1;
  dense_spec.sparse.top_k = 1;
  SparseNet dense(dense_spec, make_backend("cpu", "double")), net(sparse_spec, make_backend("cpu", "double"));
  Rng r1(11), r2(12);
  dense.init(r1);
  net.init(r2);
  net.upcycle_from(dense);
  const test::Problem p = test::make_problem(3, 4, 25, true, 13);
  // Renormalised top-k weights sum to 1 and every expert is the dense FFN: the same function.
  CHECK(arma::approx_equal(dense.predict(p.X).output, net.predict(p.X).output, "absdiff", 1e-12));
  ModelSpec wrong = sparse_spec;
  CHECK_THROWS_AS(SparseNet(wrong, make_backend("cpu", "double")).upcycle_from(net), Error);  // 4 experts
}

TEST_CASE("backend sparse net: the Model interface's steps (host optimiser, end_step) equal the backend's steps, with --l2") {
  for (const ModelSpec& spec : cases()) {
    CAPTURE(spec.sparse.router);
    SparseNet a(spec, make_backend("cpu", "double")), b(spec, make_backend("cpu", "double"));
    Rng r1(9), r2(9);
    a.init(r1);
    b.init(r2);
    const double l2 = 0.05;
    BackendOptimizer o{"adam", 1e-2};
    o.l2 = l2;
    a.start(o);
    const test::Problem p = test::make_problem(3, spec.outputs, 40, spec.task == Task::classification, 10);
    ParamList params;
    b.collect(params);
    std::unique_ptr<Optimizer> adam = make_optimizer(OptimizerOptions{"adam", 1e-2});
    for (int step = 0; step < 4; ++step) {
      a.step(p.X, p.Y);
      double backend_loss = 0.0;
      a.add_loss_sums(backend_loss);
      params.zero_grad();
      const double host_loss = b.loss(p.X, p.Y, true) + params.l2_penalty(l2, true);  // as the trainer does
      CHECK(backend_loss / 40.0 == doctest::Approx(host_loss).epsilon(1e-12));
      adam->step(params);
      b.end_step();
    }
    a.to_host();
    ParamList sa, sb;
    a.collect_state(sa);
    b.collect_state(sb);
    for (std::size_t i = 0; i < sa.size(); ++i) {
      CAPTURE(sa.items()[i].name);
      // The host Adam and the backend's round differently in the last bits.
      CHECK(arma::approx_equal(*sa.items()[i].value, *sb.items()[i].value, "absdiff", 1e-13));
    }
    const RoutingLog &la = *a.routing_log(), &lb = *b.routing_log();
    REQUIRE(la.steps() == 4);
    REQUIRE(lb.steps() == 4);
    for (std::size_t s = 0; s < 4; ++s) CHECK(la.cv_load[s] == doctest::Approx(lb.cv_load[s]).epsilon(1e-10));
  }
}

TEST_CASE("backend sparse net: training steps give the same bits with 1 and 2 threads (float)") {
  for (ModelSpec spec : cases()) {
    CAPTURE(spec.sparse.router);
    spec.sparse.model_dim = 32, spec.sparse.ff_dim = 48;  // large enough for the ops to split their work
    const test::Problem p = test::make_problem(3, spec.outputs, 4000, spec.task == Task::classification, 12);
    std::vector<arma::vec> values;
    for (const int threads : {1, 2}) {
      set_threads(threads);
      SparseNet net(spec, make_backend("cpu", "float"));
      Rng rng(9);
      net.init(rng);
      net.start({"adam", 1e-2});
      for (int step = 0; step < 3; ++step) net.step(p.X, p.Y);
      net.to_host();
      ParamList params;
      net.collect_state(params);
      values.push_back(params.values());
    }
    set_threads(0);
    CHECK(arma::approx_equal(values[0], values[1], "absdiff", 0.0));
  }
}
