// The Gaussian (localised) gate of Xu, Jordan & Hinton (1995): gradient of the mixture loss through it,
// its probabilities against a hand computation, the closed-form M-step against a direct weighted
// mean/variance, EM's monotone JOINT log-likelihood log p(x, y), recovery of known gate centres, the
// spec's `gate` field, and moe-train/moe-eval end to end.
#include <doctest/doctest.h>

#include "models/problems.hpp"

#include <cmath>

#include "cli/run_command.hpp"
#include "moe/core/error.hpp"
#include "moe/core/gradient_check.hpp"
#include "moe/gates/gaussian_gate.hpp"
#include "moe/h5/hdf5.hpp"
#include "moe/models/local_experts.hpp"

using namespace moe;
using moe::test::make_problem;
using moe::test::Problem;

namespace {


ModelSpec gaussian_spec(const std::string& expert, bool cls, arma::uword d, arma::uword m, arma::uword k) {
  ModelSpec s;
  s.kind = "mixture";
  s.gate = "gaussian";
  s.task = cls ? Task::classification : Task::regression;
  s.inputs = d;
  s.outputs = m;
  s.experts = k;
  s.expert = expert;
  return s;
}

// Random, non-trivial gate parameters: unequal mixing weights and variances.
void randomise_gate(ParamList& params, Rng& rng) {
  *params.find("gate/alpha")->value = rng.normal_matrix(params.find("gate/alpha")->value->n_rows, 1, 0.5);
  arma::mat& lv = *params.find("gate/log_var")->value;
  lv = rng.normal_matrix(lv.n_rows, lv.n_cols, 0.3);
}

}  // namespace

TEST_CASE("gaussian gate: central-difference gradient of the mixture loss for each expert kind") {
  for (const char* expert : {"gaussian", "linear-gaussian", "softmax"}) {
    CAPTURE(expert);
    const bool cls = std::string(expert) == "softmax";
    LocalExpertsMixture model(gaussian_spec(expert, cls, 2, 3, 4));
    Rng rng(21);
    model.init(rng);
    ParamList params;
    model.collect(params);
    randomise_gate(params, rng);
    Problem p = make_problem(2, 3, 23, cls, 22);
    auto loss = [&](bool acc) { return model.loss(p.X, p.Y, acc); };
    const GradientCheck g = check_gradient(params, loss);
    CHECK(g.max_relative_error < 1e-6);
    // Every gate parameter gets a non-trivial gradient (the check is not vacuous for the gate).
    params.zero_grad();
    model.loss(p.X, p.Y, true);
    for (const char* name : {"gate/alpha", "gate/means", "gate/log_var"}) {
      CAPTURE(name);
      CHECK(arma::norm(*params.find(name)->grad) > 1e-4);
    }
  }
}

TEST_CASE("gaussian gate: gradient of a fixed linear function of log g, and of log p(x)") {
  GaussianGate gate(3, 4);
  Rng rng(31);
  gate.init(rng, 0.8);
  ParamList params;
  gate.collect(params, "g/");
  *params.find("g/alpha")->value = rng.normal_matrix(4, 1, 0.5);
  *params.find("g/log_var")->value = rng.normal_matrix(3, 4, 0.3);
  const arma::mat X = rng.normal_matrix(3, 17);
  const arma::mat C = rng.normal_matrix(4, 17);
  // loss = sum C % log g: dloss/dz = C - g * colsum(C).
  auto loss = [&](bool acc) {
    const ColumnSoftmax s = column_softmax(gate.logits(X));
    if (acc) gate.accumulate_grad(X, C - s.prob.each_row() % arma::sum(C, 0));
    return arma::accu(C % s.log_prob);
  };
  CHECK(check_gradient(params, loss).max_relative_error < 1e-6);
  // loss = sum_n log p(x_n) = sum lse(z): dloss/dz = g. Checks the log a_j normalisation in alpha.
  auto density = [&](bool acc) {
    if (acc) gate.accumulate_grad(X, gate.probabilities(X));
    return arma::accu(gate.log_input_density(X));
  };
  CHECK(check_gradient(params, density).max_relative_error < 1e-6);
}

TEST_CASE("gaussian gate: probabilities for K = 2, d = 1 by hand") {
  GaussianGate gate(1, 2);
  ParamList params;
  gate.collect(params, "g/");
  *params.find("g/alpha")->value = arma::mat(arma::vec{0.3, -0.2});
  *params.find("g/means")->value = arma::mat{{-1.0, 2.0}};
  *params.find("g/log_var")->value = arma::mat{{std::log(0.5), std::log(2.0)}};
  const arma::mat X = {{-2.0, -1.0, 0.0, 0.4, 1.7, 3.5}};
  const arma::mat G = gate.probabilities(X), L = gate.log_probabilities(X);
  const arma::rowvec logp = gate.log_input_density(X);
  const double e1 = std::exp(0.3), e2 = std::exp(-0.2);
  const double a1 = e1 / (e1 + e2), a2 = e2 / (e1 + e2);
  auto normal = [](double x, double m, double v) { return std::exp(-0.5 * (x - m) * (x - m) / v) / std::sqrt(2 * M_PI * v); };
  CHECK(gate.mixing()(0) == doctest::Approx(a1).epsilon(1e-14));
  for (arma::uword n = 0; n < X.n_cols; ++n) {
    CAPTURE(n);
    const double p1 = a1 * normal(X(0, n), -1.0, 0.5), p2 = a2 * normal(X(0, n), 2.0, 2.0);
    CHECK(G(0, n) == doctest::Approx(p1 / (p1 + p2)).epsilon(1e-13));
    CHECK(G(1, n) == doctest::Approx(p2 / (p1 + p2)).epsilon(1e-13));
    CHECK(L(0, n) == doctest::Approx(std::log(p1 / (p1 + p2))).epsilon(1e-12));
    CHECK(logp(n) == doctest::Approx(std::log(p1 + p2)).epsilon(1e-13));
  }
}

TEST_CASE("gaussian gate: the M-step is the weighted mean, variance and mixing proportion") {
  const arma::uword d = 3, K = 4, N = 60;
  Rng rng(41);
  const arma::mat X = rng.normal_matrix(d, N, 2.0);
  arma::mat H = rng.uniform_matrix(K, N, 0.0, 1.0);
  H.each_row() /= arma::sum(H, 0);
  const arma::rowvec w = rng.uniform_matrix(1, N, 0.2, 1.5);
  GaussianGate gate(d, K);
  gate.init(rng);
  gate.fit(X, H, w);
  double total = 0;
  for (arma::uword n = 0; n < N; ++n) total += w(n);
  for (arma::uword j = 0; j < K; ++j) {
    CAPTURE(j);
    double mass = 0;
    arma::vec mean(d, arma::fill::zeros), var(d, arma::fill::zeros);
    for (arma::uword n = 0; n < N; ++n) {
      mass += w(n) * H(j, n);
      mean += w(n) * H(j, n) * X.col(n);
    }
    mean /= mass;
    for (arma::uword n = 0; n < N; ++n) var += w(n) * H(j, n) * arma::square(X.col(n) - mean);
    var /= mass;
    CHECK(gate.mixing()(j) == doctest::Approx(mass / total).epsilon(1e-13));
    for (arma::uword i = 0; i < d; ++i) {
      CHECK(gate.means()(i, j) == doctest::Approx(mean(i)).epsilon(1e-12));
      CHECK(gate.variances()(i, j) == doctest::Approx(var(i)).epsilon(1e-12));
    }
  }
  // A component that owns one point only: its variance stops at the floor (1e-6 of the data's).
  arma::mat H1(K, N, arma::fill::zeros);
  H1.row(0).fill(1.0);
  H1(0, 5) = 0.0;
  H1(1, 5) = 1.0;
  gate.fit(X, H1, arma::ones<arma::rowvec>(N));
  const arma::vec data_var = arma::var(X, 1, 1);  // normalised by N
  for (arma::uword i = 0; i < d; ++i) {
    CHECK(gate.means()(i, 1) == doctest::Approx(X(i, 5)).epsilon(1e-14));
    CHECK(gate.variances()(i, 1) == doctest::Approx(1e-6 * data_var(i)).epsilon(1e-9));
  }
  // Components 2 and 3 got no weight: mixing ~ 0, finite logits, means unchanged from the first fit.
  CHECK(gate.mixing()(2) < 1e-200);
  CHECK(gate.logits(X).is_finite());
}

TEST_CASE("gaussian gate: EM never decreases the joint log-likelihood log p(x, y)") {
  int checked = 0;
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    for (const char* expert : {"linear-gaussian", "gaussian", "softmax"}) {
      CAPTURE(seed);
      CAPTURE(expert);
      const bool cls = std::string(expert) == "softmax";
      LocalExpertsMixture model(gaussian_spec(expert, cls, 3, 3, 4));
      Rng rng(seed * 7);
      model.init(rng);
      Problem p = make_problem(3, 3, 150, cls, seed + 100);
      EmOptions o;
      double previous = -arma::datum::inf;
      for (int it = 0; it < 30; ++it) {
        const double joint = model.em_objective(p.X, p.Y);
        // em_step returns the conditional sum_n log p(y | x) before its step; log p(x, y) adds log p(x).
        const double before = -double(p.X.n_cols) * model.loss(p.X, p.Y, false);
        CHECK(model.em_step(p.X, p.Y, o) == doctest::Approx(before).epsilon(1e-12));
        CHECK(joint >= previous - 1e-9 * std::abs(previous));
        previous = joint;
        ++checked;
      }
      // At fixed parameters: em_objective = log p(y|x) + log p(x) = -N loss + sum log p(x).
      const double n = double(p.X.n_cols);
      CHECK(model.em_objective(p.X, p.Y) ==
            doctest::Approx(-n * model.loss(p.X, p.Y, false) + arma::accu(model.gate().log_input_density(p.X)))
                .epsilon(1e-12));
    }
  }
  CHECK(checked == 6 * 3 * 30);
}

TEST_CASE("gaussian gate: EM recovers the centres of a 1-D mixture of two separated Gaussians") {
  // x ~ 0.4 N(-3, 0.6^2) + 0.6 N(2.5, 0.4^2); y = 2x + 1 in the first component, -x + 4 in the second.
  Rng rng(51);
  const arma::uword N = 800;
  arma::mat X(1, N), Y(1, N);
  for (arma::uword n = 0; n < N; ++n) {
    const bool first = rng.uniform() < 0.4;
    X(0, n) = first ? -3.0 + 0.6 * rng.normal() : 2.5 + 0.4 * rng.normal();
    Y(0, n) = (first ? 2.0 * X(0, n) + 1.0 : -X(0, n) + 4.0) + 0.1 * rng.normal();
  }
  LocalExpertsMixture model(gaussian_spec("linear-gaussian", false, 1, 1, 2));
  model.init(rng);
  EmOptions o;
  for (int it = 0; it < 100; ++it) model.em_step(X, Y, o);
  const auto& gate = dynamic_cast<const GaussianGate&>(model.gate());
  const arma::uword lo = gate.means()(0, 0) < gate.means()(0, 1) ? 0 : 1, hi = 1 - lo;
  CHECK(gate.means()(0, lo) == doctest::Approx(-3.0).epsilon(0.05));
  CHECK(gate.means()(0, hi) == doctest::Approx(2.5).epsilon(0.05));
  CHECK(std::sqrt(gate.variances()(0, lo)) == doctest::Approx(0.6).epsilon(0.1));
  CHECK(std::sqrt(gate.variances()(0, hi)) == doctest::Approx(0.4).epsilon(0.1));
  CHECK(gate.mixing()(lo) == doctest::Approx(0.4).epsilon(0.1));
  ParamList params;
  model.collect(params);
  CHECK(params.find("expert" + std::to_string(lo) + "/W")->value->at(0) == doctest::Approx(2.0).epsilon(0.05));
  CHECK(params.find("expert" + std::to_string(hi) + "/W")->value->at(0) == doctest::Approx(-1.0).epsilon(0.05));
}

TEST_CASE("gaussian gate: spec field, validation, and stable linear-gate names") {
  ModelSpec s = gaussian_spec("linear-gaussian", false, 2, 1, 3);
  CHECK(std::get<std::string>(s.to_attributes().at("gate")) == "gaussian");
  CHECK(ModelSpec::from_attributes(s.to_attributes()).gate == "gaussian");
  auto old = s.to_attributes();
  old.erase("gate");  // a file written before the Gaussian gate
  CHECK(ModelSpec::from_attributes(old).gate == "linear");
  s.gate = "spherical";
  CHECK_THROWS_WITH_AS(s.validate(), doctest::Contains("unknown --gate"), Error);
  s.gate = "gaussian";
  s.kind = "mlp";  // a model without gates
  CHECK_THROWS_WITH_AS(s.validate(), doctest::Contains("--gate gaussian does not apply to --model mlp"), Error);
  // The linear gate keeps its parameter names; the Gaussian gate registers its own.
  s.kind = "mixture";
  s.gate = "linear";
  LocalExpertsMixture linear(s);
  ParamList pl;
  linear.collect(pl);
  CHECK(pl.find("gate/V") != nullptr);
  CHECK(pl.find("gate/c") != nullptr);
  s.gate = "gaussian";
  LocalExpertsMixture gaussian(s);
  ParamList pg;
  gaussian.collect(pg);
  CHECK(pg.find("gate/alpha")->value->n_rows == 3);
  CHECK(pg.find("gate/means")->value->n_rows == 2);
  CHECK(pg.find("gate/means")->value->n_cols == 3);
  CHECK(pg.find("gate/log_var")->value->n_cols == 3);
  // Least-squares gate fitting belongs to the linear gate.
  EmOptions o;
  o.gate_fit = "least-squares";
  Problem p = make_problem(2, 1, 20, false, 3);
  CHECK_THROWS_WITH_AS(gaussian.em_step(p.X, p.Y, o), doctest::Contains("closed form"), Error);
}

TEST_CASE("cli: moe-train --gate gaussian --trainer em, and moe-eval loads the model") {
  using moe::test::run_command;
  moe::test::TempDir dir("gaussian-gate");
  const std::string data = dir / "lm.csv", run = dir / "run.h5", ev = dir / "eval.h5";
  auto r = run_command(std::string(MOE_DATA_BIN) + " generate linear-mixture --n 600 --inputs 2 --experts 3 "
                       "--seed 4 --out " + data);
  INFO(r.err);
  REQUIRE(r.status == 0);
  r = run_command(std::string(MOE_TRAIN_BIN) + " --data " + data + " --features x1,x2 --target y --task regression "
                  "--model mixture --gate gaussian --trainer em --experts 3 --expert linear-gaussian --epochs 20 "
                  "--test-fraction 0.25 --seed 2 --quiet -o " + run);
  INFO(r.err);
  REQUIRE(r.status == 0);
  h5::File f = h5::File::open(run);
  CHECK(f.attr_string("model", "gate") == "gaussian");
  CHECK(f.read_matrix("model/params/gate/means").n_cols == 3);
  CHECK(f.read_matrix("model/params/gate/log_var").n_rows == 2);
  const arma::mat gate = f.read_matrix("eval/test/gate");
  CHECK(arma::abs(arma::sum(gate, 0) - 1.0).max() < 1e-12);
  r = run_command(std::string(MOE_EVAL_BIN) + " --model " + run + " --data " + data + " --target y --name all -o " + ev);
  INFO(r.err);
  REQUIRE(r.status == 0);
  h5::File e = h5::File::open(ev);
  CHECK(e.read_matrix("eval/all/gate").n_rows == 3);
  CHECK(e.read_matrix("eval/all/predictions").n_cols == 600);
}
