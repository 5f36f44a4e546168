// Optimisers against hand-computed updates, and the trainer's stopping rules.
#include <doctest/doctest.h>

#include "moe/models/local_experts.hpp"
#include "moe/train/metrics.hpp"
#include "moe/train/optimizer.hpp"
#include "moe/train/trainer.hpp"

using namespace moe;

TEST_CASE("optimizer: momentum gradient descent follows the heavy-ball recursion") {
  arma::mat theta(1, 1), grad(1, 1);
  theta.fill(2.0);
  ParamList params;
  params.add("t", theta, grad);
  MomentumGD opt(0.1, 0.5);
  double x = 2.0, v = 0.0;
  for (int step = 0; step < 4; ++step) {
    grad.fill(3.0 * theta(0, 0));  // f = 1.5 theta^2
    opt.step(params);
    v = 0.5 * v - 0.1 * 3.0 * x;
    x += v;
    CHECK(theta(0, 0) == doctest::Approx(x).epsilon(1e-15));
  }
}

TEST_CASE("optimizer: Adam's bias-corrected steps") {
  arma::mat theta(2, 1), grad(2, 1);
  theta = {1.0, -1.0};
  ParamList params;
  params.add("t", theta, grad);
  Adam opt(0.01, 0.9, 0.999, 1e-8);
  grad = {4.0, -0.5};
  opt.step(params);  // first step: m_hat = g, v_hat = g^2 -> step = lr * g / (|g| + eps)
  CHECK(theta(0, 0) == doctest::Approx(1.0 - 0.01 * 4.0 / (4.0 + 1e-8)).epsilon(1e-14));
  CHECK(theta(1, 0) == doctest::Approx(-1.0 + 0.01 * 0.5 / (0.5 + 1e-8)).epsilon(1e-14));
  grad = {2.0, 1.0};
  opt.step(params);
  const double m = 0.9 * 0.1 * 4.0 + 0.1 * 2.0, vv = 0.999 * 0.001 * 16.0 + 0.001 * 4.0;
  const double step = 0.01 * (m / (1 - 0.81)) / (std::sqrt(vv / (1 - 0.999 * 0.999)) + 1e-8);
  CHECK(theta(0, 0) == doctest::Approx(1.0 - 0.01 * 4.0 / (4.0 + 1e-8) - step).epsilon(1e-12));
}

namespace {

// Two well-separated classes on a line; a 2-expert softmax mixture separates them.
void separable(arma::mat& X, arma::mat& Y, std::uint64_t seed) {
  Rng rng(seed);
  X = rng.normal_matrix(1, 80, 0.3);
  Y.zeros(2, 80);
  for (arma::uword j = 0; j < 80; ++j) {
    const bool right = j % 2;
    X(0, j) += right ? 2.0 : -2.0;
    Y(right, j) = 1.0;
  }
}

ModelSpec two_class_mixture() {
  ModelSpec spec;
  spec.task = Task::classification;
  spec.inputs = 1;
  spec.outputs = 2;
  spec.experts = 2;
  spec.expert = "softmax";
  return spec;
}

}  // namespace

TEST_CASE("trainer: stops at the criterion and records the epoch") {
  arma::mat X, Y;
  separable(X, Y, 1);
  LocalExpertsMixture model(two_class_mixture());
  Rng rng(2);
  model.init(rng);
  TrainOptions o;
  o.optimizer.learning_rate = 0.5;
  o.epochs = 500;
  o.criterion_metric = "mse";
  o.criterion = 0.05;
  o.quiet = true;
  const TrainResult r = train(model, X, Y, {}, {}, true, o, rng);
  REQUIRE(r.criterion_epoch > 0);
  CHECK(r.history.epoch.size() == std::size_t(r.criterion_epoch));
  CHECK(r.history.train_metric.back() <= 0.05);
  CHECK(r.history.train_metric[r.history.train_metric.size() - 2] > 0.05);
  CHECK(evaluate(model, X, Y, true).accuracy == 1.0);
}

TEST_CASE("trainer: minibatch SGD and Adam decrease the loss") {
  arma::mat X, Y;
  separable(X, Y, 3);
  for (const char* name : {"sgd", "adam"}) {
    CAPTURE(name);
    LocalExpertsMixture model(two_class_mixture());
    Rng rng(4);
    model.init(rng);
    const double before = model.loss(X, Y, false);
    TrainOptions o;
    o.optimizer.name = name;
    o.optimizer.learning_rate = 0.05;
    o.batch_size = 16;
    o.epochs = 30;
    o.quiet = true;
    train(model, X, Y, {}, {}, true, o, rng);
    CHECK(model.loss(X, Y, false) < 0.5 * before);
  }
}

TEST_CASE("trainer: early stopping restores the weights of the best validation epoch") {
  arma::mat X, Y, VX, VY;
  separable(X, Y, 5);
  separable(VX, VY, 6);
  VY = arma::flipud(VY);  // a validation set that disagrees: its loss rises as training proceeds
  LocalExpertsMixture model(two_class_mixture());
  Rng rng(7);
  model.init(rng);
  TrainOptions o;
  o.optimizer.learning_rate = 0.2;
  o.epochs = 400;
  o.patience = 5;
  o.quiet = true;
  const TrainResult r = train(model, X, Y, VX, VY, true, o, rng);
  REQUIRE(r.stopped_early);
  CHECK(r.history.epoch.size() == std::size_t(r.best_epoch) + 5);
  const double best = *std::min_element(r.history.valid_loss.begin(), r.history.valid_loss.end());
  CHECK(r.history.valid_loss[std::size_t(r.best_epoch) - 1] == best);
  CHECK(model.loss(VX, VY, false) == doctest::Approx(best).epsilon(1e-12));
}

TEST_CASE("trainer: early stopping restores the best weights also when the epochs run out first") {
  arma::mat X, Y, VX, VY;
  separable(X, Y, 5);
  separable(VX, VY, 6);
  VY = arma::flipud(VY);
  LocalExpertsMixture model(two_class_mixture());
  Rng rng(7);
  model.init(rng);
  TrainOptions o;
  o.optimizer.learning_rate = 0.2;
  o.epochs = 40;
  o.patience = 1000;  // never fires
  o.quiet = true;
  const TrainResult r = train(model, X, Y, VX, VY, true, o, rng);
  CHECK_FALSE(r.stopped_early);
  REQUIRE(r.history.epoch.size() == 40);
  const double best = *std::min_element(r.history.valid_loss.begin(), r.history.valid_loss.end());
  CHECK(best < r.history.valid_loss.back());
  CHECK(model.loss(VX, VY, false) == doctest::Approx(best).epsilon(1e-12));
}
