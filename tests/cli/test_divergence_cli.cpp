// Training that goes wrong says so: a diverging run stops with one error line, exit 1 and no results
// file; EM's softmax experts that saturate (class probabilities of exactly 0) get a warning, and --l2
// keeps them finite (a held-out loss far below the unpenalised one).
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "cli/run_command.hpp"

using moe::test::CommandResult;
using moe::test::run_command;
using moe::test::TempDir;

namespace {

const std::string fixture = std::string(MOE_FIXTURES) + "/vowels_small.csv";

std::string last_line(const std::string& text) {
  std::string t = text;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  return t.substr(t.rfind('\n') == std::string::npos ? 0 : t.rfind('\n') + 1);
}

double printed(const std::string& out, const std::string& part) {  // "test   loss 0.12543 ..."
  const auto at = out.find(part + " ");
  REQUIRE(at != std::string::npos);
  const auto loss = out.find("loss ", at);
  return std::stod(out.substr(loss + 5));
}

}  // namespace

TEST_CASE("divergence: a learning rate far too large stops the run with one error line and no file") {
  TempDir dir("diverge");
  const CommandResult mlp = run_command(std::string(MOE_TRAIN_BIN) + " --data " + fixture +
                                        " --features F1,F2 --target Vowel --model mlp --lr 1e6 --epochs 50 -q -o " +
                                        (dir / "mlp.h5"));
  CAPTURE(mlp.err);
  CHECK(mlp.status == 1);
  CHECK(last_line(mlp.err).rfind("moe-train: error: training diverged at epoch ", 0) == 0);
  CHECK(mlp.err.find("lower --learning-rate") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir / "mlp.h5"));

  REQUIRE(run_command(std::string(MOE_DATA_BIN) + " generate linear-mixture --n 200 --out " + (dir / "reg.csv")).status == 0);
  const CommandResult reg = run_command(std::string(MOE_TRAIN_BIN) + " --data " + (dir / "reg.csv") +
                                        " --features x1,x2 --target y --task regression --expert linear-gaussian "
                                        "--lr 1e3 --epochs 50 -q -o " + (dir / "reg.h5"));
  CAPTURE(reg.err);
  CHECK(reg.status == 1);
  CHECK(last_line(reg.err).rfind("moe-train: error: training diverged at epoch ", 0) == 0);
  CHECK_FALSE(std::filesystem::exists(dir / "reg.h5"));

  // Real formants, the target unscaled: the learned variance keeps the loss bounded while the mean runs
  // away; the mse check stops it.
  const CommandResult f3 = run_command(std::string(MOE_TRAIN_BIN) + " --data " + fixture +
                                       " --features F1,F2 --target F3 --task regression --lr 1e3 --epochs 50 -q -o " +
                                       (dir / "f3.h5"));
  CAPTURE(f3.err);
  CHECK(f3.status == 1);
  CHECK(last_line(f3.err).find("training diverged at epoch ") != std::string::npos);
  CHECK(last_line(f3.err).find("training mse") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir / "f3.h5"));

  // The same run at a sane rate trains; the check is off with --divergence-factor 0 (the loss stays finite
  // at a rate that only oscillates).
  CHECK(run_command(std::string(MOE_TRAIN_BIN) + " --data " + (dir / "reg.csv") +
                    " --features x1,x2 --target y --task regression --expert linear-gaussian --lr 0.05 --epochs 50 -q -o " +
                    (dir / "ok.h5")).status == 0);
  const CommandResult off = run_command(std::string(MOE_TRAIN_BIN) + " --data " + fixture +
                                        " --features F1,F2 --target Vowel --model mlp --lr 30 --epochs 20 "
                                        "--divergence-factor 0 -q -o " + (dir / "off.h5"));
  CAPTURE(off.err);
  CHECK(off.status == 0);
}

TEST_CASE("divergence: EM's saturating softmax experts are reported, and --l2 keeps the held-out loss finite") {
  TempDir dir("saturate");
  const std::string run = std::string(MOE_TRAIN_BIN) + " --data " + fixture +
                          " --features F0,F1,F2,F3 --target Vowel --model hme --depth 2 --branching 3 --expert softmax "
                          "--trainer em --epochs 200 --test-fraction 0.3 --seed 2 -o ";
  const CommandResult plain = run_command(run + (dir / "plain.h5"));
  const CommandResult penalised = run_command(run + (dir / "l2.h5") + " --l2 0.001");
  CAPTURE(plain.err);
  CAPTURE(penalised.err);
  REQUIRE(plain.status == 0);
  REQUIRE(penalised.status == 0);
  CHECK(plain.err.find("probability of exactly 0 at a training point") != std::string::npos);
  CHECK(penalised.err.find("exactly 0") == std::string::npos);
  const double plain_test = printed(plain.out, "test"), penalised_test = printed(penalised.out, "test");
  CHECK(plain_test > 0.5);       // measured 0.876: the saturated experts' held-out loss
  CHECK(penalised_test < 0.25);  // measured 0.125
}

TEST_CASE("divergence: --l2 and --divergence-factor refuse impossible or inapplicable settings") {
  TempDir dir("l2flags");
  const std::string base = std::string(MOE_TRAIN_BIN) + " --data " + fixture +
                           " --features F1,F2 --target Vowel --epochs 2 -q -o " + (dir / "x.h5") + " ";
  const CommandResult negative = run_command(base + "--l2 -1");
  CHECK(negative.status == 1);
  CHECK(negative.err.find("--l2 must be a finite number >= 0") != std::string::npos);
  const CommandResult online = run_command(base + "--model hme --expert softmax --trainer online-em --l2 0.1");
  CHECK(online.status == 2);
  CHECK(online.err.find("--l2 does not apply to --trainer online-em") != std::string::npos);
  const CommandResult ls = run_command(base + "--trainer em --expert softmax --gate-fit least-squares --l2 0.1");
  CHECK(ls.status == 1);
  CHECK(ls.err.find("--l2 does not apply to --gate-fit least-squares") != std::string::npos);
  const CommandResult factor = run_command(base + "--divergence-factor -3");
  CHECK(factor.status == 1);
  CHECK(factor.err.find("--divergence-factor must be") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir / "x.h5"));
}
