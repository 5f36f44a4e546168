// End to end through the apps: train on the committed vowel fixture, evaluate the saved model, read
// the HDF5 values back and check them against an independent computation.
#include <doctest/doctest.h>

#include <filesystem>

#include "cli/compare_results.hpp"
#include "cli/run_command.hpp"
#include "moe/h5/hdf5.hpp"

using namespace moe;
using moe::test::check_same_results;
using moe::test::run_command;
using moe::test::TempDir;

namespace {

const std::string fixture = std::string(MOE_FIXTURES) + "/vowels_small.csv";

std::string train_command(const std::string& out, const std::string& extra = "") {
  return std::string(MOE_TRAIN_BIN) + " --data " + fixture +
         " --features F1,F2 --target Vowel --filter Vowel=iy,ih,aa,ah --group Speaker --train-groups 8"
         " --test-groups 4 --experts 4 --expert softmax --learning-rate 0.5 --epochs 60 --seed 7 --quiet -o " +
         out + " " + extra;
}

}  // namespace

TEST_CASE("cli: moe-train writes the schema, and moe-eval reproduces its evaluation") {
  TempDir dir("e2e");
  const std::string run = dir / "run.h5", ev = dir / "eval.h5";
  auto r = run_command(train_command(run));
  INFO(r.err);
  REQUIRE(r.status == 0);

  h5::File f = h5::File::open(run);
  for (const char* a : {"version", "git_revision", "command_line", "config", "created", "build_flags", "device"})
    CHECK(f.has_attr("/", a));
  CHECK(f.attr_int("/", "seed") == 7);
  CHECK(f.attr_string("/", "config").find("learning-rate=0.5") != std::string::npos);
  CHECK(f.attr_string("model", "kind") == "mixture");
  CHECK(f.read_matrix("model/params/gate/V").n_rows == 4);
  CHECK(f.read_vector("history/epoch").n_elem == 60);
  CHECK(f.read_matrix("history/usage").n_rows == 4);
  CHECK(f.read_matrix("history/usage").n_cols == 60);

  // Accuracy attribute = accuracy recomputed from the stored predictions and labels.
  const arma::mat pred = f.read_matrix("eval/test/predictions");
  const arma::uvec labels = f.read_uvec("eval/test/labels");
  const arma::mat gate = f.read_matrix("eval/test/gate");
  CHECK(pred.n_rows == 4);
  CHECK(gate.n_rows == 4);
  CHECK(gate.n_cols == labels.n_elem);
  CHECK(arma::abs(arma::sum(gate, 0) - 1.0).max() < 1e-12);
  const arma::uvec predicted = arma::index_max(pred, 0).t();
  CHECK(f.attr_double("eval/test", "accuracy") ==
        doctest::Approx(double(arma::accu(predicted == labels)) / double(labels.n_elem)));
  // The split is speaker-disjoint.
  auto train_groups = f.read_strings("split/train_groups"), test_groups = f.read_strings("split/test_groups");
  CHECK(train_groups.size() == 8);
  CHECK(test_groups.size() == 4);
  for (const auto& g : test_groups) CHECK(std::find(train_groups.begin(), train_groups.end(), g) == train_groups.end());

  // moe-eval on the whole fixture: rows of the test speakers must get identical predictions.
  r = run_command(std::string(MOE_EVAL_BIN) + " --model " + run + " --data " + fixture +
                  " --target Vowel --filter Vowel=iy,ih,aa,ah --group Speaker --name all -o " + ev);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("accuracy") != std::string::npos);
  h5::File e = h5::File::open(ev);
  const arma::mat all_pred = e.read_matrix("eval/all/predictions");
  const auto all_groups = e.read_strings("eval/all/groups");
  const auto test_rows = f.read_strings("eval/test/groups");
  arma::uword j = 0;
  for (arma::uword c = 0; c < all_groups.size(); ++c) {
    if (std::find(test_groups.begin(), test_groups.end(), all_groups[c]) == test_groups.end()) continue;
    REQUIRE(j < pred.n_cols);
    CHECK(test_rows[j] == all_groups[c]);
    CHECK(arma::abs(all_pred.col(c) - pred.col(j)).max() < 1e-12);
    ++j;
  }
  CHECK(j == pred.n_cols);
  for (const char* d : {"gate", "posterior", "assignment", "posterior_assignment", "predicted_labels", "usage"})
    CHECK(e.exists(std::string("eval/all/") + d));
}

namespace {

// Identical results (compare_results.hpp) from runs on 1 and 2 threads.
void check_identical_results(const std::string& a, const std::string& b) {
  CHECK(h5::File::open(a).attr_int("/", "threads") == 1);
  CHECK(h5::File::open(b).attr_int("/", "threads") == 2);
  CHECK(check_same_results(a, b) > 20);
}

}  // namespace

TEST_CASE("cli: the same seed gives identical numeric results with 1 and 2 threads (vowels, minibatch Adam)") {
  TempDir dir("threads");
  const std::string a = dir / "t1.h5", b = dir / "t2.h5";
  REQUIRE(run_command(train_command(a, "--threads 1 --optimizer adam --batch-size 16")).status == 0);
  REQUIRE(run_command(train_command(b, "--threads 2 --optimizer adam --batch-size 16")).status == 0);
  check_identical_results(a, b);
}

TEST_CASE("cli: identical results with 1 and 2 threads where the OpenMP loops run (8 experts, 6000 points)") {
  TempDir dir("threads-large");
  const std::string data = dir / "lm.csv", a = dir / "t1.h5", b = dir / "t2.h5";
  REQUIRE(run_command(std::string(MOE_DATA_BIN) + " generate linear-mixture --n 6000 --inputs 3 --experts 4 "
                      "--seed 3 --out " + data).status == 0);
  const std::string cmd = std::string(MOE_TRAIN_BIN) + " --data " + data + " --features x1,x2,x3 --target y "
                          "--task regression --experts 8 --expert linear-gaussian --learning-rate 0.05 --epochs 15 "
                          "--test-fraction 0.2 --quiet --seed 5 ";
  REQUIRE(run_command(cmd + "--threads 1 -o " + a).status == 0);
  REQUIRE(run_command(cmd + "--threads 2 -o " + b).status == 0);
  check_identical_results(a, b);
}

TEST_CASE("cli: a TOML config file supplies flags, and the command line overrides it") {
  TempDir dir("config");
  const std::string cfg = dir / "c.toml", out = dir / "r.h5";
  std::ofstream(cfg) << "experts = 3\nepochs = 5\nlearning-rate = 0.2\n";
  auto r = run_command(std::string(MOE_TRAIN_BIN) + " --config " + cfg + " --data " + fixture +
                       " --features F1,F2 --target Vowel --group Speaker --train-groups 8 --epochs 9 --quiet -o " + out);
  INFO(r.err);
  REQUIRE(r.status == 0);
  h5::File f = h5::File::open(out);
  CHECK(f.attr_int("model", "experts") == 3);
  CHECK(f.read_vector("history/epoch").n_elem == 9);
}
