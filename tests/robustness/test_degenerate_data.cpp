// Numeric robustness, cases (b) constant features, (c) duplicate points and (d) a single
// class, each through every model kind and trainer of the full moe-train path (run_train_job).
#include <doctest/doctest.h>

#include "robustness/robust_util.hpp"

#include "moe/core/warning.hpp"
#include "moe/data/standardizer.hpp"
#include "moe/run/eval_job.hpp"

using namespace moe;
using namespace moe::test;

namespace {

// Parameters of two results files agree (relative 1e-6, or 1e-9 absolute for values near 0).
void check_same_parameters(const std::string& a, const std::string& b) {
  const h5::File fa = h5::File::open(a), fb = h5::File::open(b);
  const std::vector<std::string> names = fa.children("model/params");
  REQUIRE(names == fb.children("model/params"));
  std::function<void(const std::string&)> visit = [&](const std::string& group) {
    for (const std::string& name : fa.children(group)) {
      const std::string object = group + "/" + name;
      if (fa.is_group(object)) {
        visit(object);
        continue;
      }
      CAPTURE(object);
      const arma::mat va = fa.read_matrix(object), vb = fb.read_matrix(object);
      CHECK(arma::approx_equal(va, vb, "both", 1e-9, 1e-6));
    }
  };
  visit("model/params");
}

// The predictions of run `a` at each of its training inputs equal those of run `b` at the same input
// (the two runs may hold their points in other orders, and `a` each of them more than once).
void check_same_predictions(const std::string& a, const std::string& b) {
  const arma::mat xa = read(a, "eval/train/inputs"), pa = read(a, "eval/train/predictions");
  const arma::mat xb = read(b, "eval/train/inputs"), pb = read(b, "eval/train/predictions");
  double worst = 0.0;
  for (arma::uword j = 0; j < xa.n_cols; ++j) {
    const arma::uword k = arma::index_min(arma::sum(arma::square(xb.each_col() - xa.col(j)), 0));
    REQUIRE(arma::approx_equal(xb.col(k), xa.col(j), "absdiff", 1e-12));
    worst = std::max(worst, arma::abs(pa.col(j) - pb.col(k)).max());
  }
  CHECK(worst < 1e-6);
}

}  // namespace

TEST_CASE("robust: a constant feature (zero variance) is not divided by zero, and changes nothing") {
  TempDir dir("robust-constant");
  WarningCapture warnings;
  for (const Config& c : all_configs()) {
    CAPTURE(c.name);
    Toy toy = make_toy(90, c.classification, 3);
    toy.X.resize(3, toy.X.n_cols);
    auto run = [&](double constant, bool standardize) {
      toy.X.row(2).fill(constant);
      TrainJob job = base_job(write_table(dir, "c.csv", toy.X, toy.y), 3, c.classification,
                              dir / ("c" + std::to_string(int(std::log10(std::abs(constant) + 1e-300))) +
                                     (standardize ? "s" : "r") + ".h5"));
      c.set(job);
      job.data.standardize = standardize;
      run_train_job(job);
      check_file_finite(job.output);
      return job.output;
    };
    const std::string zero = run(0.0, true);
    for (double constant : {5.0, -1e-30, 1e30}) {
      CAPTURE(constant);
      const std::string out = run(constant, true);
      // The constant becomes exactly 0 (or rounding noise far below 1) after standardisation, so the fit
      // is the one with a column of zeros.
      const arma::mat inputs = read(out, "eval/train/inputs");
      CHECK(arma::abs(inputs.row(2)).max() <= 1e-12);
      const arma::vec scale = read(out, "model/standardizer/scale");
      CHECK(scale[2] >= 1.0);
      CHECK(std::isfinite(scale[2]));
      check_same_parameters(out, zero);
      CHECK(arma::approx_equal(read(out, "eval/train/predictions"), read(zero, "eval/train/predictions"), "both",
                               1e-9, 1e-6));
    }
    run(5.0, false);  // raw: a constant input is a second bias; finite all the same
  }
  CHECK(warnings.contains("feature x2 is constant"));
}

TEST_CASE("robust: a column constant in training but not in evaluation stays finite through moe-eval's path") {
  TempDir dir("robust-constant-eval");
  for (const Config& c : all_configs()) {
    CAPTURE(c.name);
    Toy toy = make_toy(60, c.classification, 4);
    toy.X.resize(3, toy.X.n_cols);
    toy.X.row(2).fill(1e30);
    TrainJob job = base_job(write_table(dir, "train.csv", toy.X, toy.y), 3, c.classification, dir / "m.h5");
    c.set(job);
    run_train_job(job);
    toy.X.row(2) = arma::linspace<arma::rowvec>(-1e31, 1e31, toy.X.n_cols);  // now it varies a lot
    EvalJob eval;
    eval.model_path = job.output;
    eval.data.path = write_table(dir, "eval.csv", toy.X, toy.y);
    eval.data.target = "y";
    eval.data.task = job.data.task;
    eval.output = dir / "e.h5";
    const EvalJobResult r = run_eval_job(eval);
    CHECK(std::isfinite(r.metrics.loss));
    check_file_finite(eval.output);
  }
}

TEST_CASE("robust: duplicate points: every point three times gives the same fit, all points identical stays finite") {
  TempDir dir("robust-duplicates");
  WarningCapture warnings;
  for (const Config& c : all_configs()) {
    CAPTURE(c.name);
    const Toy toy = make_toy(80, c.classification, 6);
    TrainJob once = base_job(write_table(dir, "once.csv", toy.X, toy.y), 2, c.classification, dir / "once.h5");
    c.set(once);
    run_train_job(once);
    check_file_finite(once.output);
    // Every point three times: the standardisation, the mean losses, the full-batch gradients and the
    // EM fixed points are those of the data once, so the fit is the same: the parameters for gradient
    // training; for EM the predictions and losses (where classes separate, IRLS drives weights towards
    // infinity and its absolute stopping tolerance then stops the two runs at different large weights
    // with the same saturated predictions). On-line EM visits points one at a time in a random order:
    // only finite.
    std::vector<std::string> y3;
    for (int r = 0; r < 3; ++r) y3.insert(y3.end(), toy.y.begin(), toy.y.end());
    TrainJob thrice = base_job(write_table(dir, "thrice.csv", arma::repmat(toy.X, 1, 3), y3), 2, c.classification,
                               dir / "thrice.h5");
    c.set(thrice);
    run_train_job(thrice);
    check_file_finite(thrice.output);
    if (thrice.train.method != "online-em") {
      if (thrice.train.method == "gradient") check_same_parameters(thrice.output, once.output);
      check_same_predictions(thrice.output, once.output);
      CHECK(arma::approx_equal(read(thrice.output, "history/loss"), read(once.output, "history/loss"), "both", 1e-9,
                               1e-6));
    }

    // All points identical: one input, one target (regression) or labels at fixed frequencies.
    const arma::uword n = 40;
    const arma::mat same = arma::repmat(arma::vec{0.7, -1.3}, 1, n);
    std::vector<std::string> labels;
    for (arma::uword j = 0; j < n; ++j) labels.push_back(c.classification ? (j % 4 == 0 ? "b" : "a") : "2.5");
    TrainJob identical = base_job(write_table(dir, "same.csv", same, labels), 2, c.classification, dir / "same.h5");
    c.set(identical);
    run_train_job(identical);
    check_file_finite(identical.output);
    const arma::mat predictions = read(identical.output, "eval/train/predictions");
    // Every point gets the same prediction.
    CHECK(arma::abs(predictions.each_col() - predictions.col(0)).max() < 1e-9);
    // EM fits the target (regression) or the class frequencies (0.75 / 0.25) exactly.
    // (On-line EM's recursive least squares starts from a weak prior and forgets: within 1%.)
    if (identical.train.method == "em" || identical.train.method == "online-em") {
      const double tolerance = identical.train.method == "em" ? 1e-6 : 1e-2;
      if (c.classification) {
        CHECK(predictions(0, 0) == doctest::Approx(0.75).epsilon(tolerance));
        CHECK(predictions(1, 0) == doctest::Approx(0.25).epsilon(tolerance));
      } else {
        CHECK(predictions(0, 0) == doctest::Approx(2.5).epsilon(tolerance));
      }
    }
  }
  // Identical points leave a Gaussian expert nothing to spread over: its variance is held at the floor.
  CHECK(warnings.contains("floor"));
}

TEST_CASE("robust: a single class in training: the model predicts it, accuracy 1, nothing NaN") {
  TempDir dir("robust-one-class");
  WarningCapture warnings;
  for (const Config& c : all_configs()) {
    if (!c.classification) continue;
    CAPTURE(c.name);
    Toy toy = make_toy(60, true, 7);
    for (auto& label : toy.y) label = "a";
    for (const bool declared_two : {false, true}) {
      CAPTURE(declared_two);
      TrainJob job = base_job(write_table(dir, "one.csv", toy.X, toy.y), 2, true, dir / "one.h5");
      c.set(job);
      if (declared_two) job.data.classes = {"a", "b"};  // a class that never occurs in training
      const TrainJobResult r = run_train_job(job);
      check_file_finite(job.output);
      CHECK(r.train_metrics.accuracy == 1.0);
      const arma::mat predictions = read(job.output, "eval/train/predictions");
      CHECK(predictions.n_rows == (declared_two ? 2u : 1u));
      CHECK(arma::all(arma::index_max(predictions, 0) == 0));
      std::filesystem::remove(job.output);
    }
  }
  CHECK(warnings.contains("only one class"));
}

TEST_CASE("robust: moe-train reports degenerate data as one 'moe-train: warning:' line per kind, and still succeeds") {
  TempDir dir("robust-warning-cli");
  Toy toy = make_toy(40, true, 9);
  toy.X.resize(4, toy.X.n_cols);
  toy.X.row(2).fill(3.0);  // two constant features: one line for both
  toy.X.row(3).fill(-7.0);
  for (auto& label : toy.y) label = "b";
  const std::string csv = write_table(dir, "w.csv", toy.X, toy.y);
  const CommandResult r = run_command(std::string(MOE_TRAIN_BIN) + " --data " + csv +
                                      " --features x0,x1,x2,x3 --target y --trainer em --expert softmax --epochs 30"
                                      " --quiet -o " + (dir / "w.h5"));
  CAPTURE(r.err);
  CHECK(r.status == 0);
  CHECK(count_lines(r.err) == 2);
  CHECK(r.err.find("moe-train: warning: 2 features are constant in the training data (x2 = 3, x3 = -7)") !=
        std::string::npos);
  CHECK(r.err.find("moe-train: warning: only one class ('b') occurs in the training data") != std::string::npos);
  CHECK(std::filesystem::exists(dir / "w.h5"));
}
