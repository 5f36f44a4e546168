// Central-difference gradient checks in double precision for the gate, each expert and the mixture
// loss (relative error < 1e-6), and the identity dloss/d(gate logit) = (g - h) / N.
#include <doctest/doctest.h>

#include "models/problems.hpp"

#include "moe/core/gradient_check.hpp"
#include "moe/core/math.hpp"
#include "moe/experts/expert_registry.hpp"
#include "moe/gates/linear_softmax_gate.hpp"
#include "moe/models/local_experts.hpp"
#include "moe/models/mlp.hpp"

using namespace moe;
using moe::test::make_problem;
using moe::test::Problem;

namespace {


constexpr double tolerance = 1e-6;

}  // namespace

TEST_CASE("gradient: linear-softmax gate through a fixed linear loss") {
  Problem p = make_problem(3, 4, 17, false, 1);
  LinearSoftmaxGate gate(3, 4);
  Rng rng(2);
  gate.init(rng, 0.7);
  ParamList params;
  gate.collect(params, "gate/");
  const arma::mat C = rng.normal_matrix(4, 17);  // loss = sum C % log g, exercises every logit
  auto loss = [&](bool acc) {
    const arma::mat Z = gate.logits(p.X);
    const arma::mat L = log_softmax_cols(Z);
    if (acc) {
      const arma::mat G = softmax_cols(Z);
      gate.accumulate_grad(p.X, C - G.each_row() % arma::sum(C, 0));
    }
    return arma::accu(C % L);
  };
  CHECK(check_gradient(params, loss).max_relative_error < tolerance);
}

TEST_CASE("gradient: every expert kind") {
  for (const ExpertEntry& entry : ExpertRegistry::instance().entries()) {  // every registered expert kind
    CAPTURE(entry.name);
    const bool cls = entry.classification_only;
    Problem p = make_problem(3, 4, 13, cls, 3);
    auto expert = entry.make(3, 4, true);
    Rng rng(4);
    expert->init(rng);
    ParamList params;
    expert->collect(params, "e/");
    if (const Param* s = params.find("e/log_var")) *s->value = rng.normal_matrix(4, 1, 0.3);
    if (const Param* c = params.find("e/chol")) *c->value = arma::trimatl(rng.normal_matrix(4, 4, 0.3));
    const arma::rowvec w = rng.uniform_matrix(1, 13, 0.1, 1.0);
    auto loss = [&](bool acc) {
      if (acc) expert->accumulate_grad(p.X, p.Y, w);
      return -arma::accu(w % expert->log_likelihood(p.X, p.Y));
    };
    CHECK(check_gradient(params, loss).max_relative_error < tolerance);
  }
}

TEST_CASE("gradient: mixture loss for each expert kind, and the MLP") {
  struct Case {
    std::string kind, expert, output;
    bool cls;
  };
  for (const Case& c : {Case{"mixture", "gaussian", "", false}, Case{"mixture", "linear-gaussian", "", false},
                        Case{"mixture", "linear-gaussian-full", "", false}, Case{"mixture", "softmax", "", true}, Case{"mlp", "", "softmax", true},
                        Case{"mlp", "", "sigmoid", true}, Case{"mlp", "", "linear", false}}) {
    CAPTURE(c.kind);
    CAPTURE(c.expert);
    CAPTURE(c.output);
    ModelSpec spec;
    spec.kind = c.kind;
    spec.task = c.cls ? Task::classification : Task::regression;
    spec.inputs = 2;
    spec.outputs = 3;
    spec.experts = 4;
    spec.expert = c.expert.empty() ? "softmax" : c.expert;
    spec.output = c.output.empty() ? "softmax" : c.output;
    spec.gate_init_scale = 0.5;
    spec.hidden = 5;
    Problem p = make_problem(2, 3, 23, c.cls, 5);
    auto model = make_model(spec);
    Rng rng(6);
    model->init(rng);
    ParamList params;
    model->collect(params);
    auto loss = [&](bool acc) { return model->loss(p.X, p.Y, acc); };
    const GradientCheck g = check_gradient(params, loss);
    CHECK(g.max_relative_error < tolerance);
    CHECK(arma::norm(g.analytic) > 1e-3);  // the check is not vacuous
  }
}

TEST_CASE("mixture: dloss/d(gate logit) equals (g - h) / N") {
  ModelSpec spec;
  spec.task = Task::regression;
  spec.inputs = 2;
  spec.outputs = 2;
  spec.experts = 3;
  spec.expert = "linear-gaussian";
  spec.gate_init_scale = 0.8;
  Problem p = make_problem(2, 2, 11, false, 7);
  LocalExpertsMixture model(spec);
  Rng rng(8);
  model.init(rng);
  ParamList params;
  model.collect(params);
  // The gate's bias c enters logit i of every point with coefficient 1, so dloss/dc_i = sum_n dloss/dz_in;
  // perturbing one point at a time gives the per-point logit gradient: use N = 1 slices.
  const arma::mat G = model.predict(p.X).gate;
  const arma::mat H = model.posterior(p.X, p.Y);
  for (arma::uword n = 0; n < p.X.n_cols; ++n) {
    params.zero_grad();
    model.loss(p.X.col(n), p.Y.col(n), true);
    const arma::mat dc = *params.find("gate/c")->grad;
    for (arma::uword i = 0; i < 3; ++i) CHECK(dc(i, 0) == doctest::Approx(G(i, n) - H(i, n)).epsilon(1e-12));
  }
  // And the posteriors are a distribution per point.
  CHECK(arma::abs(arma::sum(H, 0) - 1.0).max() < 1e-12);
}

TEST_CASE("mixture: loss equals -mean log sum_i g_i p_i computed by hand") {
  ModelSpec spec;
  spec.task = Task::regression;
  spec.inputs = 1;
  spec.outputs = 1;
  spec.experts = 2;
  spec.expert = "gaussian";
  LocalExpertsMixture model(spec);  // zero gate: g = (1/2, 1/2); means set below
  ParamList params;
  model.collect(params);
  params.find("expert0/mu")->value->fill(-1.0);
  params.find("expert1/mu")->value->fill(2.0);
  const arma::mat X(1, 2, arma::fill::zeros);
  arma::mat Y(1, 2);
  Y(0, 0) = 0.0;
  Y(0, 1) = 2.0;
  auto phi = [](double r) { return std::exp(-0.5 * r * r) / std::sqrt(2 * arma::datum::pi); };
  const double l0 = std::log(0.5 * phi(1.0) + 0.5 * phi(2.0)), l1 = std::log(0.5 * phi(3.0) + 0.5 * phi(0.0));
  CHECK(model.loss(X, Y, false) == doctest::Approx(-(l0 + l1) / 2).epsilon(1e-14));
}
