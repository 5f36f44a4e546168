// Deep MoE through the apps: moe-data jitter -> moe-train --model deep --feature-matrix pixels ->
// moe-eval on the test file. The results file carries both layers' gates; the saved model, reloaded by
// moe-eval, gives moe-train's own predictions on the same images; bad deep settings are one-line errors.
#include <doctest/doctest.h>

#include "cli/run_command.hpp"
#include "moe/data/idx.hpp"
#include "moe/h5/hdf5.hpp"

using namespace moe;
using moe::test::count_lines;
using moe::test::run_command;
using moe::test::TempDir;

namespace {

// 60 tiny 6x6 "digits" of 3 classes: class c lights column 2c of the image (plus a little texture).
void write_digits(const TempDir& dir) {
  const arma::uword n = 60;
  arma::mat images(36, n, arma::fill::zeros);
  arma::urowvec labels(n);
  for (arma::uword k = 0; k < n; ++k) {
    labels[k] = k % 3;
    for (arma::uword r = 0; r < 6; ++r) images(r * 6 + 2 * labels[k], k) = 1.0;
    images((k * 5) % 36, k) = 0.5;
  }
  write_idx_images(dir / "images.idx", images, 6, 6);
  write_idx_labels(dir / "labels.idx", labels);
}

}  // namespace

TEST_CASE("cli: deep MoE on jittered images, trained by moe-train and reloaded by moe-eval") {
  TempDir dir("deep");
  write_digits(dir);
  auto r = run_command(std::string(MOE_DATA_BIN) + " jitter --images " + (dir / "images.idx") + " --labels " +
                       (dir / "labels.idx") + " --test 20 --canvas 8 --max-shift 1 --seed 3 --out " + (dir / "j"));
  INFO(r.err);
  REQUIRE(r.status == 0);
  const std::string run = dir / "run.h5", ev = dir / "eval.h5", ev_train = dir / "eval_train.h5";
  const std::string deep = "--model deep --layer-experts 3,2 --expert-hidden 6 --gate-hidden 5 --balance-margin 2 "
                           "--balance-epochs 3";
  auto train = [&](const std::string& model, const std::string& out) {
    return std::string(MOE_TRAIN_BIN) + " --data " + (dir / "j/train.h5") +
           " --feature-matrix pixels --target label --no-standardize " + model +
           " --optimizer adam --learning-rate 0.01 --batch-size 10 --epochs 6 --seed 4 --quiet -o " + out;
  };
  r = run_command(train(deep, run));
  INFO(r.err);
  REQUIRE(r.status == 0);
  h5::File f = h5::File::open(run);
  CHECK(f.attr_string("model", "kind") == "deep");
  CHECK(f.attr_string("model", "layer_experts") == "3,2");
  CHECK(f.attr_int("model", "balance_epochs") == 3);
  CHECK(f.read_matrix("model/params/layer2/expert1/W").n_rows == 6);
  CHECK(f.read_matrix("model/params/layer1/gate/W1").n_cols == 64);
  CHECK(f.read_strings("model/feature_names").front() == "pixels[0]");
  CHECK(f.read_matrix("history/usage").n_rows == 3);
  CHECK(f.read_matrix("eval/train/layer1/gate").n_rows == 3);
  CHECK(f.read_matrix("eval/train/layer2/gate").n_rows == 2);
  CHECK(f.attr_int("eval/train", "layers") == 2);
  CHECK_FALSE(f.exists("eval/train/posterior"));
  CHECK_FALSE(f.exists("eval/train/inputs"));  // the images stay in the data file
  CHECK(f.exists("eval/train/targets"));

  // moe-eval finds the feature matrix from the model's feature names.
  r = run_command(std::string(MOE_EVAL_BIN) + " --model " + run + " --data " + (dir / "j/test.h5") +
                  " --target label --name test -o " + ev);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("deep on 20 points") != std::string::npos);
  h5::File e = h5::File::open(ev);
  const arma::mat g1 = e.read_matrix("eval/test/layer1/gate"), g2 = e.read_matrix("eval/test/layer2/gate");
  REQUIRE(g1.n_rows == 3);
  REQUIRE(g1.n_cols == 20);
  REQUIRE(g2.n_rows == 2);
  CHECK(arma::abs(arma::sum(g1, 0) - 1.0).max() < 1e-12);
  CHECK(arma::abs(arma::sum(g2, 0) - 1.0).max() < 1e-12);
  CHECK(arma::approx_equal(g1, e.read_matrix("eval/test/gate"), "absdiff", 0.0));
  CHECK(arma::all(e.read_uvec("eval/test/layer2/assignment") == arma::index_max(g2, 0).t()));

  // The same training images through moe-eval: moe-train's predictions and gates, to the last bit.
  r = run_command(std::string(MOE_EVAL_BIN) + " --model " + run + " --data " + (dir / "j/train.h5") +
                  " --feature-matrix pixels --target label -o " + ev_train);
  INFO(r.err);
  REQUIRE(r.status == 0);
  h5::File t = h5::File::open(ev_train);
  CHECK(arma::approx_equal(t.read_matrix("eval/data/predictions"), f.read_matrix("eval/train/predictions"),
                           "absdiff", 0.0));
  CHECK(arma::approx_equal(t.read_matrix("eval/data/layer2/gate"), f.read_matrix("eval/train/layer2/gate"),
                           "absdiff", 0.0));

  // Same seed, same model, whatever the thread count.
  r = run_command(train(deep, dir / "run1.h5") + " --threads 1");
  REQUIRE(r.status == 0);
  CHECK(arma::approx_equal(h5::File::open(dir / "run1.h5").read_matrix("model/params/layer1/expert2/W"),
                           f.read_matrix("model/params/layer1/expert2/W"), "absdiff", 0.0));

  // Bad settings: one line, exit 1, no file.
  const std::pair<std::string, std::string> bad[] = {
      {"--model deep --layer-experts 3,0", "--layer-experts: every layer needs 1 to 1024 experts (got 3,0)"},
      {"--model deep --balance-margin -1", "--balance-margin must be a finite number >= 0"},
      {"--model deep --expert-hidden 0", "--expert-hidden must be at least 1"},
      {"--model mixture --balance-epochs 2", "--balance-epochs does not apply to --model mixture"},
      // The minibatch flag of these runs comes first: EM reads no --batch-size.
      {"--model deep --trainer em", "--batch-size does not apply to --trainer em"}};
  // .first / .second, not a structured binding: clang 14 (scripts/tsan.sh) cannot capture one in CAPTURE.
  for (const auto& bad_case : bad) {
    const std::string &flags = bad_case.first, &needle = bad_case.second;
    CAPTURE(flags);
    r = run_command(train(flags, dir / "bad.h5"));
    CHECK(r.status == (needle.find("does not apply") != std::string::npos ? 2 : 1));  // a usage error: 2
    CHECK(count_lines(r.err) == 1);
    CHECK(r.err.find("moe-train: error: " + needle) == 0);
    CHECK_FALSE(std::filesystem::exists(dir / "bad.h5"));
  }
}
