// HME and EM through the apps: tree statistics in the results file, EM's monotone history, and a
// saved tree reloaded by moe-eval giving the same predictions.
#include <doctest/doctest.h>

#include "cli/run_command.hpp"
#include "moe/h5/hdf5.hpp"

using namespace moe;
using moe::test::run_command;
using moe::test::TempDir;

TEST_CASE("cli: an HME trained by EM writes per-level node statistics and a monotone history") {
  TempDir dir("hme");
  const std::string data = dir / "lm.csv", run = dir / "run.h5", ev = dir / "eval.h5";
  REQUIRE(run_command(std::string(MOE_DATA_BIN) + " generate linear-mixture --n 600 --inputs 2 --experts 4 "
                      "--seed 2 --out " + data).status == 0);
  auto r = run_command(std::string(MOE_TRAIN_BIN) + " --data " + data + " --features x1,x2 --target y "
                       "--task regression --model hme --depth 2 --branching 3 --expert linear-gaussian "
                       "--trainer em --epochs 30 --gate-init-scale 0.5 --test-fraction 0.25 --quiet -o " + run);
  INFO(r.err);
  REQUIRE(r.status == 0);
  h5::File f = h5::File::open(run);
  CHECK(f.attr_string("model", "kind") == "hme");
  CHECK(f.attr_int("model", "depth") == 2);  // typed; the 9 experts follow from depth and branching
  CHECK(f.attr_int("model", "branching") == 3);
  CHECK_FALSE(f.has_attr("model", "experts"));
  CHECK(f.attr_string("history", "trainer") == "em");
  CHECK(f.attr_int("eval/train/tree", "levels") == 2);
  const arma::vec l1 = f.read_vector("eval/train/tree/level1/prior_mean");
  const arma::vec l2 = f.read_vector("eval/train/tree/level2/prior_mean");
  REQUIRE(l1.n_elem == 3);
  REQUIRE(l2.n_elem == 9);
  CHECK(arma::accu(l1) == doctest::Approx(1.0).epsilon(1e-12));
  for (arma::uword i = 0; i < 3; ++i)  // a node's mass is the sum of its children's
    CHECK(l1[i] == doctest::Approx(arma::accu(l2.subvec(3 * i, 3 * i + 2))).epsilon(1e-12));
  CHECK(arma::approx_equal(l2, f.read_vector("eval/train/usage"), "absdiff", 1e-12));
  CHECK(arma::accu(f.read_vector("eval/train/tree/level2/posterior_mean")) == doctest::Approx(1.0).epsilon(1e-12));
  const arma::vec loss = f.read_vector("history/loss");  // EM: -log-likelihood before each step
  for (arma::uword e = 1; e < loss.n_elem; ++e) CHECK(loss[e] <= loss[e - 1] + 1e-9 * std::abs(loss[e - 1]));
  CHECK(f.read_matrix("model/params/gate3/V").n_rows == 3);  // 1 + 3 gates

  r = run_command(std::string(MOE_EVAL_BIN) + " --model " + run + " --data " + data + " --target y -o " + ev);
  INFO(r.err);
  REQUIRE(r.status == 0);
  h5::File e = h5::File::open(ev);
  CHECK(e.read_matrix("eval/data/gate").n_rows == 9);
  CHECK(e.exists("eval/data/tree/level2/prior_mean"));
}
