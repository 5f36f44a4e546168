// Bad input through moe-train and moe-eval: each case gives a one-line error naming the problem, a
// non-zero exit, and leaves no output file (nor a temporary) behind.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "cli/run_command.hpp"

using moe::test::CommandResult;
using moe::test::count_lines;
using moe::test::run_command;
using moe::test::TempDir;

namespace {

const std::string fixture = std::string(MOE_FIXTURES) + "/vowels_small.csv";

// Runs moe-train with `data` and `extra` flags, writing into dir; checks the failure contract.
void expect_failure(const TempDir& dir, const std::string& data, const std::string& extra, const std::string& needle,
                    const std::string& output = "") {
  const std::string out = output.empty() ? dir / "out.h5" : output;
  const CommandResult r = run_command(std::string(MOE_TRAIN_BIN) + " --data '" + data +
                                      "' --features F1,F2 --target Vowel --epochs 3 --quiet -o '" + out + "' " + extra);
  CAPTURE(extra);
  CAPTURE(r.err);
  CHECK(r.status != 0);
  CHECK(count_lines(r.err) == 1);
  CHECK(r.err.rfind("moe-train: error: ", 0) == 0);
  CHECK(r.err.find(needle) != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(out));
  if (std::filesystem::exists(std::filesystem::path(out).parent_path()))
    for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(out).parent_path()))
      CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);
}

std::string write(const TempDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir / name;
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST_CASE("bad input: missing data file") {
  TempDir dir("bad");
  expect_failure(dir, dir / "nope.csv", "", "nope.csv");
}

TEST_CASE("bad input: empty CSV") {
  TempDir dir("bad");
  expect_failure(dir, write(dir, "empty.csv", ""), "", "empty");
}

TEST_CASE("bad input: header only") {
  TempDir dir("bad");
  expect_failure(dir, write(dir, "h.csv", "F1,F2,Vowel\n"), "", "no data rows");
}

TEST_CASE("bad input: ragged rows") {
  TempDir dir("bad");
  expect_failure(dir, write(dir, "r.csv", "F1,F2,Vowel\n1,2,iy\n3,4\n5,6,aa\n"), "", "line 3");
}

TEST_CASE("bad input: non-numeric cell") {
  TempDir dir("bad");
  expect_failure(dir, write(dir, "n.csv", "F1,F2,Vowel\n1,2,iy\n3,abc,aa\n5,6,aa\n"), "", "abc");
}

TEST_CASE("bad input: NaN and Inf") {
  TempDir dir("bad");
  expect_failure(dir, write(dir, "nan.csv", "F1,F2,Vowel\n1,2,iy\n3,NaN,aa\n5,6,aa\n"), "", "--missing");
  expect_failure(dir, write(dir, "inf.csv", "F1,F2,Vowel\n1,2,iy\n3,4,aa\n-inf,6,aa\n"), "", "finite");
}

TEST_CASE("bad input: unknown column") {
  TempDir dir("bad");
  expect_failure(dir, fixture, "--filter Formant=1", "Formant");
  const CommandResult r = run_command(std::string(MOE_TRAIN_BIN) + " --data " + fixture +
                                      " --features F1,F9 --target Vowel --quiet -o " + (dir / "o.h5"));
  CHECK(r.status != 0);
  CHECK(count_lines(r.err) == 1);
  CHECK(r.err.find("F9") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir / "o.h5"));
}

TEST_CASE("bad input: fewer rows than experts") {
  TempDir dir("bad");
  expect_failure(dir, write(dir, "few.csv", "F1,F2,Vowel\n1,2,iy\n3,4,aa\n5,6,aa\n"), "--experts 4", "fewer");
}

TEST_CASE("bad input: unknown flag") {
  TempDir dir("bad");
  expect_failure(dir, fixture, "--expertz 4", "--expertz");
}

TEST_CASE("bad input: impossible values") {
  TempDir dir("bad");
  expect_failure(dir, fixture, "--experts 0", "--experts");
  expect_failure(dir, fixture, "--learning-rate -0.1", "--learning-rate");
  expect_failure(dir, fixture, "--learning-rate nan", "--learning-rate");
  expect_failure(dir, fixture, "--epochs 0", "--epochs");
  expect_failure(dir, fixture, "--model forest", "forest");
  expect_failure(dir, fixture, "--momentum 1.5", "--momentum");
  expect_failure(dir, fixture, "--group Speaker --train-groups 500", "groups");
  expect_failure(dir, fixture, "--criterion nan", "--criterion");
}

TEST_CASE("bad input: inf and nan are refused by every real-valued option, also those with no range of their own") {
  TempDir dir("bad");
  for (const char* extra : {"--gate-init-scale inf", "--irls-ridge inf", "--momentum nan", "--valid-fraction -inf",
                            "--forgetting inf", "--beta1 nan", "--tolerance nan"}) {
    CAPTURE(extra);
    const std::string flag = std::string(extra).substr(0, std::string(extra).find(' '));
    expect_failure(dir, fixture, extra, flag);
    expect_failure(dir, fixture, extra, "must be a finite number");
  }
  const CommandResult r = run_command(std::string(MOE_DATA_BIN) + " generate rank-language --logit-scale inf --out " +
                                      (dir / "lang.h5"));
  CHECK(r.status != 0);
  CHECK(count_lines(r.err) == 1);
  CHECK(r.err.find("--logit-scale") != std::string::npos);
  CHECK(r.err.find("must be a finite number") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir / "lang.h5"));
}

TEST_CASE("bad input: negative counts are refused, not wrapped around") {
  TempDir dir("bad");
  for (const char* flag : {"--epochs", "--experts", "--hidden", "--batch-size", "--threads", "--seed", "--patience"}) {
    CAPTURE(flag);
    expect_failure(dir, fixture, std::string(flag) + " -1", flag);
  }
}

TEST_CASE("bad input: unknown key or missing config file") {
  TempDir dir("bad");
  expect_failure(dir, fixture, "--config " + write(dir, "c.toml", "expertz = 3\n"), "unknown key 'expertz'");
  expect_failure(dir, fixture, "--config " + (dir / "missing.toml"), "missing.toml");
}

TEST_CASE("bad input: early stopping without a validation split") {
  TempDir dir("bad");
  expect_failure(dir, fixture, "--patience 3", "--patience");
}

TEST_CASE("bad input: unwritable output path") {
  TempDir dir("bad");
  expect_failure(dir, fixture, "", "cannot write", dir / "no/such/dir/out.h5");
}

TEST_CASE("bad input: moe-eval with features or classes that are not the model's") {
  TempDir dir("bad");
  const std::string model = dir / "m.h5";
  REQUIRE(run_command(std::string(MOE_TRAIN_BIN) + " --data " + fixture +
                      " --features F1,F2 --target Vowel --epochs 3 --quiet -o " + model).status == 0);
  for (const std::string& extra : {std::string("--features F2,F1"), std::string("--features F0,F3"),
                                   std::string("--classes iy,ih,aa")}) {
    CAPTURE(extra);
    const std::string out = dir / "e.h5";
    const CommandResult r = run_command(std::string(MOE_EVAL_BIN) + " --model " + model + " --data " + fixture +
                                        " --target Vowel -o " + out + " " + extra);
    CHECK(r.status != 0);
    CHECK(count_lines(r.err) == 1);
    CHECK(r.err.find("model's") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(out));
  }
}

TEST_CASE("bad input: moe-eval on a file that is not a model") {
  TempDir dir("bad");
  const std::string out = dir / "e.h5";
  const CommandResult r = run_command(std::string(MOE_EVAL_BIN) + " --model " + fixture + " --data " + fixture +
                                      " --target Vowel -o " + out);
  CAPTURE(r.err);
  CHECK(r.status != 0);
  CHECK(count_lines(r.err) == 1);
  CHECK(r.err.find("HDF5") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(out));
}
