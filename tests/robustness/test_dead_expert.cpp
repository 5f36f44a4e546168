// Numeric robustness, case (e): an expert whose posterior mass goes to zero (initialised far
// from every target, in a mixture of 4 on data that 2 explain), and an expert that collapses onto the
// points it fits exactly: EM and gradient training, flat mixtures (linear and Gaussian gates) and trees.
// Its variance stays at or above the floor, nothing is NaN (no 0/0 in the M-step), and one warning line
// per expert says what happened, however many epochs it recurs in.
#include <doctest/doctest.h>

#include <cmath>

#include "moe/core/warning.hpp"
#include "moe/experts/full_covariance_expert.hpp"
#include "moe/experts/linear_gaussian_expert.hpp"
#include "moe/models/model.hpp"
#include "moe/train/trainer.hpp"

using namespace moe;

namespace {

// Two lines (y = 2x + 1 for x < 0, y = 3 - x for x >= 0) with a little noise: d = 1, m = 1, n points.
void two_lines(arma::uword n, arma::mat& X, arma::mat& Y) {
  Rng rng(17);
  X = rng.normal_matrix(1, n);
  Y.set_size(1, n);
  for (arma::uword j = 0; j < n; ++j) Y(0, j) = X(0, j) < 0 ? 2.0 * X(0, j) + 1.0 : 3.0 - X(0, j);
  Y += rng.normal_matrix(1, n, 0.05);
}

ModelSpec spec_of(const std::string& kind, const std::string& expert, const std::string& gate) {
  ModelSpec s;
  s.kind = kind;
  s.task = Task::regression;
  s.inputs = 1;
  s.outputs = 1;
  s.experts = 4;
  s.depth = 2;  // hme: 4 leaves
  s.branching = 2;
  s.expert = expert;
  s.gate = gate;
  s.gate_init_scale = kind == "hme" ? 0.5 : 0.0;
  return s;
}

TrainOptions options_of(const std::string& method, std::size_t epochs) {
  TrainOptions o;
  o.method = method;
  o.epochs = epochs;
  o.quiet = true;
  o.optimizer.name = "adam";
  o.optimizer.learning_rate = 0.05;
  return o;
}

// Every parameter finite, every learnt variance at or above its floor.
void check_parameters(Model& model) {
  ParamList params;
  model.collect_state(params);
  for (const Param& p : params) {
    CAPTURE(p.name);
    CHECK(p.value->is_finite());
    if (p.name.ends_with("/log_var") && p.name.rfind("gate", 0) != 0)
      CHECK(p.value->min() >= LinearGaussianExpert::log_variance_floor - 1e-12);
    if (p.name.ends_with("/chol")) CHECK(p.value->diag().min() >= FullCovarianceExpert::log_std_floor - 1e-12);
  }
}

void check_outputs(const Model& model, const arma::mat& X, const arma::mat& Y, const TrainResult& r) {
  const Prediction p = model.predict(X);
  CHECK(p.output.is_finite());
  CHECK(p.gate.is_finite());
  CHECK(model.posterior(X, Y).is_finite());
  CHECK(model.pointwise_loss(X, Y).is_finite());
  CHECK(arma::rowvec(r.history.loss).is_finite());
  CHECK(arma::rowvec(r.history.train_metric).is_finite());
  CHECK(r.history.usage.is_finite());
}

}  // namespace

TEST_CASE("robust: an expert far from every target gets no posterior mass: no NaN, variance >= floor, one warning") {
  arma::mat X, Y;
  two_lines(200, X, Y);
  struct Case {
    std::string kind, expert, gate, method;
  };
  std::vector<Case> cases;
  for (const std::string method : {"em", "gradient"}) {
    for (const std::string expert : {"gaussian", "linear-gaussian", "linear-gaussian-full"}) {
      cases.push_back({"mixture", expert, "linear", method});
      cases.push_back({"hme", expert, "linear", method});
    }
    cases.push_back({"mixture", "linear-gaussian", "gaussian", method});
  }
  for (const Case& c : cases) {
    CAPTURE(c.kind);
    CAPTURE(c.expert);
    CAPTURE(c.gate);
    CAPTURE(c.method);
    auto model = make_model(spec_of(c.kind, c.expert, c.gate));
    Rng rng(3);
    model->init(rng);
    ParamList params;
    model->collect(params);
    // Expert 3 starts at 1e4, about 1e4 standard deviations from every target: its likelihood
    // underflows to exactly 0, so its posterior mass is exactly 0 in every epoch.
    *params.find(c.expert == "gaussian" ? "expert3/mu" : "expert3/b")->value += 1e4;
    const arma::mat before = *params.find(c.expert == "gaussian" ? "expert3/mu" : "expert3/b")->value;
    WarningCapture warnings;
    const TrainResult r = train(*model, X, Y, arma::mat(), arma::mat(), false, options_of(c.method, 25), rng);
    CHECK(r.history.loss.size() == 25);
    check_parameters(*model);
    check_outputs(*model, X, Y, r);
    // The dead expert keeps its parameters (the M-step does not divide 0 by 0; its gradient is 0).
    CHECK(arma::approx_equal(*params.find(c.expert == "gaussian" ? "expert3/mu" : "expert3/b")->value, before,
                             "absdiff", 1e-9));
    CHECK(model->posterior(X, Y).row(3).max() == 0.0);
    // One line for expert 3, in the first epoch, not one per epoch.
    CAPTURE(warnings.messages());
    CHECK(warnings.count("expert 3 received no posterior mass in epoch 1 ") == 1);
    CHECK(warnings.count("expert 3 received no posterior mass") == 1);
    if (c.expert != "gaussian") CHECK(warnings.contains("its variance stays at or above the floor"));
  }
}

TEST_CASE("robust: an expert that explains one point alone is held at the variance floor, with one warning (EM)") {
  arma::mat X, Y;
  two_lines(120, X, Y);
  // One outlier far from both lines, and expert 3 initialised on it: EM gives it that point alone, whose
  // weighted residual variance is 0 (a line through one point), so the floor decides.
  X(0, 0) = 0.5;
  Y(0, 0) = 40.0;
  for (const std::string kind : {"mixture", "hme"}) {
    for (const std::string expert : {"linear-gaussian", "linear-gaussian-full"}) {
      CAPTURE(kind);
      CAPTURE(expert);
      auto model = make_model(spec_of(kind, expert, "linear"));
      Rng rng(4);
      model->init(rng);
      ParamList params;
      model->collect(params);
      params.find("expert3/W")->value->zeros();
      params.find("expert3/b")->value->fill(40.0);
      WarningCapture warnings;
      const TrainResult r = train(*model, X, Y, arma::mat(), arma::mat(), false, options_of("em", 15), rng);
      check_parameters(*model);
      check_outputs(*model, X, Y, r);
      const Prediction p = model->predict(X);
      CAPTURE(warnings.messages());
      CHECK(warnings.count("expert 3's variance reached the floor") == 1);
      if (expert == "linear-gaussian")
        CHECK(params.find("expert3/log_var")->value->at(0) ==
              doctest::Approx(LinearGaussianExpert::log_variance_floor).epsilon(1e-9));
      else
        CHECK(params.find("expert3/chol")->value->at(0, 0) ==
              doctest::Approx(FullCovarianceExpert::log_std_floor).epsilon(1e-9));
    }
  }
}

TEST_CASE("robust: gradient training holds a collapsing variance at the floor (the parameter, not only the likelihood)") {
  // Noiseless line, one linear-Gaussian expert started on it (residuals exactly 0): the maximum-likelihood
  // variance is 0, so Adam drives the log-variance down by about the learning rate per step. Below the
  // floor the likelihood no longer depends on it, but Adam's momentum would carry it on down (about ten
  // steps' worth); the projection after each step holds it at the floor.
  Rng data_rng(8);
  const arma::mat X = data_rng.normal_matrix(1, 50);
  const arma::mat Y = 2.0 * X + 1.0;
  for (const std::string expert : {"linear-gaussian", "linear-gaussian-full"}) {
    CAPTURE(expert);
    ModelSpec s = spec_of("mixture", expert, "linear");
    s.experts = 1;
    auto model = make_model(s);
    Rng rng(9);
    model->init(rng);
    ParamList start;
    model->collect(start);
    start.find("expert0/W")->value->fill(2.0);
    start.find("expert0/b")->value->fill(1.0);
    TrainOptions o = options_of("gradient", 150);
    o.optimizer.learning_rate = 0.2;
    WarningCapture warnings;
    const TrainResult r = train(*model, X, Y, arma::mat(), arma::mat(), false, o, rng);
    check_parameters(*model);
    check_outputs(*model, X, Y, r);
    ParamList params;
    model->collect(params);
    if (expert == "linear-gaussian")
      CHECK(params.find("expert0/log_var")->value->at(0) ==
            doctest::Approx(LinearGaussianExpert::log_variance_floor).epsilon(1e-9));
    else
      CHECK(params.find("expert0/chol")->value->at(0, 0) ==
            doctest::Approx(FullCovarianceExpert::log_std_floor).epsilon(1e-9));
    CAPTURE(warnings.messages());
    CHECK(warnings.count("expert 0's variance reached the floor") == 1);
  }
}
