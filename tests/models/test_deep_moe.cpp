// Deep mixture of experts (Eigen et al. 2013): central-difference gradients of the whole model (one to
// three layers, constraint off) and of one layer under the balancing constraint; the constraint zeroes
// and renormalises exactly as specified on a hand-made case; the trainer drops it after
// --balance-epochs; the spec's attributes round-trip and impossible settings are named.
#include <doctest/doctest.h>

#include "models/problems.hpp"

#include "moe/core/error.hpp"
#include "moe/core/gradient_check.hpp"
#include "moe/core/math.hpp"
#include "moe/core/threads.hpp"
#include "moe/models/deep_moe.hpp"
#include "moe/train/trainer.hpp"

using namespace moe;
using moe::test::make_problem;
using moe::test::Problem;

namespace {

constexpr double tolerance = 1e-6;

ModelSpec deep_spec(std::vector<arma::uword> layers, arma::uword d = 5, arma::uword m = 3) {
  ModelSpec s;
  s.kind = "deep";
  s.task = Task::classification;
  s.inputs = d;
  s.outputs = m;
  s.layer_experts = std::move(layers);
  s.expert_hidden = 4;
  s.gate_hidden = 3;
  return s;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("deep moe: gradient of the cross-entropy, one to three layers, constraint off") {
  for (const std::vector<arma::uword>& layers :
       {std::vector<arma::uword>{3}, std::vector<arma::uword>{3, 2}, std::vector<arma::uword>{2, 3, 2}}) {
    CAPTURE(layers.size());
    const ModelSpec spec = deep_spec(layers);
    Problem p = make_problem(5, 3, 17, true, 11);
    auto model = make_model(spec);
    Rng rng(12);
    model->init(rng);
    ParamList params;
    model->collect(params);
    // Non-zero biases, so the check also covers them away from their initial zeros.
    for (const Param& q : params)
      if (q.name.back() == 'b' || q.name.ends_with("b1") || q.name.ends_with("b2"))
        *q.value = rng.normal_matrix(q.value->n_rows, 1, 0.1);
    auto loss = [&](bool acc) { return model->loss(p.X, p.Y, acc); };
    // Denominator floor 1e-4: gradients reaching the third layer's gate are ~1e-7, where central
    // differences carry ~1e-12 of round-off; the floor turns the test into |a - n| < 1e-10 there.
    const GradientCheck g = check_gradient(params, loss, 1e-5, 1e-4);
    CHECK(g.max_relative_error < tolerance);
    CHECK(arma::norm(g.analytic) > 1e-3);
    // Every parameter is reached: each matrix has a gradient entry above round-off.
    arma::uword at = 0;
    for (const Param& q : params) {
      CAPTURE(q.name);
      CHECK(arma::abs(g.analytic.subvec(at, at + q.value->n_elem - 1)).max() > 1e-6);
      at += q.value->n_elem;
    }
    // The layer-1 gate is a distribution per point, and predict's output is softmax of the same logits
    // whose cross-entropy loss() returns.
    const Prediction pr = model->predict(p.X);
    REQUIRE(pr.gate.n_rows == layers.front());
    CHECK(arma::abs(arma::sum(pr.gate, 0) - 1.0).max() < 1e-12);
    CHECK(-arma::accu(p.Y % arma::log(pr.output)) / 17.0 == doctest::Approx(model->loss(p.X, p.Y, false)).epsilon(1e-12));
    CHECK(model->layer_gates(p.X).size() == layers.size());
  }
}

TEST_CASE("deep moe: parameter names are stable (they are the HDF5 dataset names)") {
  DeepMoe model(deep_spec({2, 3}));
  ParamList params;
  model.collect(params);
  std::vector<std::string> names;
  for (const Param& q : params) names.push_back(q.name);
  const std::vector<std::string> expected{
      "layer1/expert0/W", "layer1/expert0/b", "layer1/expert1/W", "layer1/expert1/b", "layer1/gate/W1",
      "layer1/gate/b1",   "layer1/gate/W2",   "layer1/gate/b2",   "layer2/expert0/W", "layer2/expert0/b",
      "layer2/expert1/W", "layer2/expert1/b", "layer2/expert2/W", "layer2/expert2/b", "layer2/gate/W1",
      "layer2/gate/b1",   "layer2/gate/W2",   "layer2/gate/b2",   "output/W",         "output/b"};
  CHECK(names == expected);
  CHECK(params.find("layer1/expert0/W")->value->n_rows == 4);   // H x d
  CHECK(params.find("layer1/expert0/W")->value->n_cols == 5);
  CHECK(params.find("layer2/expert2/W")->value->n_cols == 4);   // H x H
  CHECK(params.find("layer2/gate/W2")->value->n_rows == 3);     // K_2 x G
  CHECK(params.find("output/W")->value->n_rows == 3);           // m x H
}

TEST_CASE("deep moe balancing: experts more than m above the mean sum are switched off, the rest renormalised") {
  GateBalance b(3, 0.5);
  b.sums = {2.0, 0.0, 1.0};
  arma::mat logits(3, 3, arma::fill::zeros);
  logits(1, 0) = std::log(2.0);  // unconstrained gate of column 0: (1/4, 1/2, 1/4)
  const arma::mat P = b.apply(logits);
  // Column 0: mean sum 1; expert 0 is 1 above it (> 0.5): off; (1/2, 1/4) renormalised = (2/3, 1/3).
  CHECK(P(0, 0) == 0.0);
  CHECK(P(1, 0) == doctest::Approx(2.0 / 3.0).epsilon(1e-15));
  CHECK(P(2, 0) == doctest::Approx(1.0 / 3.0).epsilon(1e-15));
  // Column 1: sums (2, 2/3, 4/3), mean 4/3: expert 0 is 2/3 above it: still off; uniform over 1 and 2.
  CHECK(P(0, 1) == 0.0);
  CHECK(P(1, 1) == doctest::Approx(0.5).epsilon(1e-15));
  CHECK(P(2, 1) == doctest::Approx(0.5).epsilon(1e-15));
  // Column 2: sums (2, 7/6, 11/6), mean 5/3: expert 0 is 1/3 above it, within the margin: all on.
  for (arma::uword i = 0; i < 3; ++i) CHECK(P(i, 2) == doctest::Approx(1.0 / 3.0).epsilon(1e-15));
  CHECK(b.blocked == 2);
  CHECK(b.sums[0] == doctest::Approx(2.0 + 1.0 / 3.0).epsilon(1e-15));
  CHECK(b.sums[1] == doctest::Approx(2.0 / 3.0 + 0.5 + 1.0 / 3.0).epsilon(1e-15));
  CHECK(b.sums[2] == doctest::Approx(1.0 + 1.0 / 3.0 + 0.5 + 1.0 / 3.0).epsilon(1e-15));
  // Equal sums: nothing is switched off, even with margin 0; the gate is the plain softmax.
  GateBalance even(3, 0.0);
  const arma::mat Z = Rng(3).normal_matrix(3, 1);
  CHECK(arma::abs(even.apply(Z) - softmax_cols(Z)).max() < 1e-15);
  CHECK(even.blocked == 0);
}

TEST_CASE("deep moe balancing: gradient of a layer through the constrained gate") {
  // A fixed starting state, restored before every evaluation, so the switched-off set is the same in
  // every call of the central differences.
  DeepMixtureLayer layer(4, 3, 3, 3);
  Rng rng(21);
  layer.init(rng);
  ParamList params;
  layer.collect(params, "l/");
  const arma::mat A = rng.normal_matrix(4, 9), C = rng.normal_matrix(3, 9);
  GateBalance start(3, 0.9);
  start.sums = {3.0, 0.0, 0.0};
  arma::uword fewest = 1000, most = 0;
  auto loss = [&](bool acc) {
    GateBalance b = start;
    const DeepMixtureLayer::Cache c = layer.forward(A, &b);
    fewest = std::min(fewest, b.blocked);
    most = std::max(most, b.blocked);
    if (acc) layer.backward(A, c, C, false);
    return arma::accu(C % c.output);  // dL/dz = C
  };
  const GradientCheck g = check_gradient(params, loss);
  CHECK(g.max_relative_error < tolerance);
  // Expert 0 is off for the first four columns (sum 3 against means 1, 4/3, 5/3, 2), in every call.
  CHECK(fewest == most);
  CHECK(most >= 4);
  // The input gradient too: d/dA of sum(C % z) by central differences on A's elements (constraint off).
  const DeepMixtureLayer::Cache c = layer.forward(A);
  params.zero_grad();
  const arma::mat dA = layer.backward(A, c, C, true);
  arma::mat Ah = A;
  double worst = 0.0;
  for (arma::uword k = 0; k < A.n_elem; ++k) {
    const double h = 1e-5;
    Ah[k] = A[k] + h;
    const double up = arma::accu(C % layer.forward(Ah).output);
    Ah[k] = A[k] - h;
    const double down = arma::accu(C % layer.forward(Ah).output);
    Ah[k] = A[k];
    const double num = (up - down) / (2 * h);
    worst = std::max(worst, std::abs(num - dA[k]) / std::max(std::abs(num) + std::abs(dA[k]), 1e-8));
  }
  CHECK(worst < tolerance);
}

TEST_CASE("deep moe balancing: training steps advance the sums, and the trainer drops the constraint after --balance-epochs") {
  ModelSpec spec = deep_spec({3, 2});
  spec.balance_epochs = 2;
  spec.balance_margin = 0.5;
  Problem p = make_problem(5, 3, 20, true, 31);
  DeepMoe model(spec);
  Rng rng(32);
  model.init(rng);
  CHECK(model.balancing());
  // Evaluation leaves the sums alone; a training step adds one unit per example to each layer's sums.
  model.loss(p.X, p.Y, false);
  model.predict(p.X);
  CHECK(arma::accu(model.balance(0).sums) == 0.0);
  ParamList params;
  model.collect(params);
  model.loss(p.X, p.Y, true);
  CHECK(arma::accu(model.balance(0).sums) == doctest::Approx(20.0).epsilon(1e-12));
  CHECK(arma::accu(model.balance(1).sums) == doctest::Approx(20.0).epsilon(1e-12));
  // A tight margin keeps the running sums within about m + 1 of each other.
  for (arma::uword l = 0; l < 2; ++l) {
    const arma::vec& s = model.balance(l).sums;
    CHECK(s.max() - arma::mean(s) <= 0.5 + 1.0 + 1e-12);
  }

  // Through the trainer: 5 epochs of minibatches of 5, constrained in epochs 1 and 2 only.
  model.init(rng);
  TrainOptions options;
  options.epochs = 5;
  options.batch_size = 5;
  options.quiet = true;
  options.optimizer.name = "adam";
  options.optimizer.learning_rate = 0.01;
  const TrainResult r = train(model, p.X, p.Y, {}, {}, true, options, rng);
  CHECK(r.history.epoch.size() == 5);
  CHECK_FALSE(model.balancing());
  for (arma::uword l = 0; l < 2; ++l) CHECK(arma::accu(model.balance(l).sums) == doctest::Approx(40.0).epsilon(1e-12));
  CHECK(r.history.usage.n_rows == 3);  // layer 1's mixing proportions per epoch
}

TEST_CASE("deep moe spec: attributes round-trip, and impossible settings are named") {
  ModelSpec s = deep_spec({6, 4, 2});
  s.expert_hidden = 20;
  s.gate_hidden = 7;
  s.balance_margin = 12.5;
  s.balance_epochs = 3;
  const ModelSpec t = ModelSpec::from_attributes(s.to_attributes());
  CHECK(t.kind == "deep");
  CHECK(t.layer_experts == std::vector<arma::uword>{6, 4, 2});
  CHECK(t.expert_hidden == 20);
  CHECK(t.gate_hidden == 7);
  CHECK(t.balance_margin == 12.5);
  CHECK(t.balance_epochs == 3);
  CHECK(t.expert_count() == 6);
  CHECK(std::get<std::string>(s.to_attributes().at("layer_experts")) == "6,4,2");
  CHECK(ModelSpec{}.to_attributes().count("layer_experts") == 0);  // other kinds' files are unchanged

  auto bad = [&](auto change) {
    ModelSpec x = deep_spec({4, 4});
    change(x);
    return error_of([&] { x.validate(); });
  };
  CHECK(bad([](ModelSpec& x) { x.layer_experts.clear(); }).find("--layer-experts") != std::string::npos);
  CHECK(bad([](ModelSpec& x) { x.layer_experts = {4, 0}; }).find("--layer-experts") != std::string::npos);
  CHECK(bad([](ModelSpec& x) { x.expert_hidden = 0; }).find("--expert-hidden") != std::string::npos);
  CHECK(bad([](ModelSpec& x) { x.gate_hidden = 0; }).find("--gate-hidden") != std::string::npos);
  CHECK(bad([](ModelSpec& x) { x.balance_margin = -1; }).find("--balance-margin") != std::string::npos);
  CHECK(bad([](ModelSpec& x) { x.task = Task::regression; }).find("classification") != std::string::npos);
  CHECK(bad([](ModelSpec& x) { x.hard = true; }).find("--hard") != std::string::npos);
  CHECK(bad([](ModelSpec& x) {
          x.kind = "mixture";
          x.balance_epochs = 2;
        }).find("--balance-epochs needs --model deep") != std::string::npos);
}

TEST_CASE("deep moe: the same numbers with 1 and 2 threads (experts spread over threads)") {
  // 16 x 256 x 256 multiply-adds per expert: above the size at which the experts run in parallel.
  ModelSpec spec = deep_spec({3, 2}, 256, 4);
  spec.expert_hidden = 16;
  Problem p = make_problem(256, 4, 256, true, 41);
  const int before = max_threads();
  arma::vec grads[2];
  double values[2];
  for (int t = 0; t < 2; ++t) {
    set_threads(t + 1);
    DeepMoe model(spec);
    Rng rng(42);
    model.init(rng);
    ParamList params;
    model.collect(params);
    values[t] = model.loss(p.X, p.Y, true);
    grads[t] = params.grads();
  }
  set_threads(before);
  CHECK(values[0] == values[1]);
  CHECK(arma::approx_equal(grads[0], grads[1], "absdiff", 0.0));
}
