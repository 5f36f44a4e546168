// Bad HDF5 input: data files for moe-train --data (a column of strings where numbers are
// expected, a 2-D dataset where a column is expected, a missing column, a --feature-matrix of the wrong
// rank or shape) and model files for moe-eval --model, moe-train --expert-models and --upcycle-from (a
// parameter dataset missing, of the wrong shape or of string type; no /model group; a missing or
// unreadable /model attribute; standardiser or names that do not fit). Each gives exactly one line on
// stderr, "moe-...: error: ..." naming the problem, a non-zero exit, no crash and no output file.
#include <doctest/doctest.h>

#include <filesystem>
#include <variant>
#include <functional>

#include "cli/run_command.hpp"
#include "moe/h5/hdf5.hpp"
#include "moe/io/model_io.hpp"

using moe::test::CommandResult;
using moe::test::count_lines;
using moe::test::run_command;
using moe::test::TempDir;
namespace h5 = moe::h5;

namespace {

const std::string fixture = std::string(MOE_FIXTURES) + "/vowels_small.csv";

void check_failure(const CommandResult& r, const std::string& program, const std::string& needle,
                   const std::string& output) {
  CAPTURE(r.err);
  CHECK(r.status != 0);
  CHECK(r.status < 128);  // an exit, not a signal (no crash)
  CHECK(count_lines(r.err) == 1);
  CHECK(r.err.rfind(program + ": error: ", 0) == 0);
  CHECK(r.err.find(needle) != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(output));
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(output).parent_path()))
    CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);
}

// A data file of 12 rows: numeric columns F1, F2 (1-D), a string column Vowel, and with `matrix` a feature
// matrix "images" (2 x 12; the table reader takes every other dataset of the group for a column, so the
// column cases go without it); `alter` then replaces or adds datasets (writing one replaces it).
std::string data_file(const TempDir& dir, const std::string& name, bool matrix,
                      const std::function<void(h5::File&)>& alter) {
  const std::string path = dir / name;
  h5::File f = h5::File::create(path);
  arma::vec f1 = arma::linspace(200, 900, 12), f2 = arma::linspace(2400, 800, 12);
  f.write("F1", f1);
  f.write("F2", f2);
  std::vector<std::string> vowel;
  for (int i = 0; i < 12; ++i) vowel.push_back(i % 2 ? "aa" : "iy");
  f.write("Vowel", vowel);
  if (matrix) f.write("images", arma::mat(arma::join_cols(f1.t(), f2.t())));
  alter(f);
  f.commit();
  return path;
}

CommandResult train_on(const std::string& data, const std::string& flags, const std::string& out) {
  return run_command(std::string(MOE_TRAIN_BIN) + " --data '" + data + "' --target Vowel --epochs 2 --quiet -o '" +
                     out + "' " + flags);
}

// A good model file from moe-train on the vowels fixture (with `flags`), read back with the library.
moe::SavedModel trained_model(const TempDir& dir, const std::string& flags) {
  const std::string path = dir / "good.h5";
  const CommandResult r = run_command(std::string(MOE_TRAIN_BIN) + " --data " + fixture +
                                      " --features F1,F2 --target Vowel --epochs 2 --quiet -o " + path + " " + flags);
  INFO(r.err);
  REQUIRE(r.status == 0);
  return moe::read_model(h5::File::open(path));
}

// What could go wrong in a model file.
struct Breakage {
  std::string what;            // for CAPTURE
  std::string needle;          // the error must name this
  std::string skip_param;      // parameter left out
  std::string skip_attribute;  // /model attribute left out
  bool no_model_group = false;
  std::function<void(h5::File&)> alter;  // applied after the model is written
};

// Writes `saved` as write_model does, broken as `b` says.
std::string broken_model(const TempDir& dir, moe::SavedModel& saved, const Breakage& b) {
  const std::string path = dir / "broken.h5";
  std::filesystem::remove(path);
  h5::File f = h5::File::create(path);
  if (b.no_model_group) {
    f.write("history/loss", arma::vec{1.0, 0.5});
  } else {
    f.create_group("model");
    for (const auto& [key, value] : saved.model->spec().to_attributes())
      if (key != b.skip_attribute)
        std::visit([&f, &name = key](const auto& v) { f.set_attr("model", name, v); }, value);
    moe::ParamList params;
    saved.model->collect_state(params);
    for (const auto& p : params)
      if (p.name != b.skip_param) f.write("model/params/" + p.name, *p.value);
    f.write("model/standardizer/mean", saved.standardizer.mean);
    f.write("model/standardizer/scale", saved.standardizer.scale);
    f.write("model/feature_names", saved.feature_names);
    f.write("model/target_names", saved.target_names);
  }
  if (b.alter) b.alter(f);
  f.commit();
  return path;
}

// The ways a model file of a model with the parameter `param` (r x c) and attribute `attribute` breaks.
std::vector<Breakage> breakages(const std::string& param, const std::string& attribute) {
  const std::string object = "model/params/" + param;
  return {
      {"parameter missing", param, param, "", false, nullptr},
      {"parameter of the wrong shape", param, "", "", false,
       [=](h5::File& f) { f.write(object, arma::mat(7, 5, arma::fill::ones)); }},
      {"parameter of string type", param, "", "", false,
       [=](h5::File& f) { f.write(object, std::vector<std::string>{"a", "b"}); }},
      {"parameter with NaN", param, "", "", false,
       [=](h5::File& f) {
         arma::mat v = f.read_matrix(object);
         v(0, 0) = arma::datum::nan;
         f.write(object, v);
       }},
      {"no /model group", "/model", "", "", true, nullptr},
      {"attribute missing", attribute, "", attribute, false, nullptr},
      {"attribute unreadable", attribute, "", "", false,
       [=](h5::File& f) { f.set_attr("model", attribute, "many"); }},
      {"standardizer of the wrong length", "standardizer", "", "", false,
       [](h5::File& f) { f.write("model/standardizer/mean", arma::vec{1.0, 2.0, 3.0}); }},
      {"feature names of numeric type", "feature_names", "", "", false,
       [](h5::File& f) { f.write("model/feature_names", arma::vec{1.0, 2.0}); }},
  };
}

}  // namespace

TEST_CASE("bad input: moe-train --data file.h5 with a string, 2-D or missing column, or a bad --feature-matrix") {
  TempDir dir("bad-h5-data");
  const std::string out = dir / "out.h5";
  struct Case {
    std::string what, flags, needle;
    std::function<void(h5::File&)> alter;
  };
  const std::vector<Case> cases = {
      {"strings where numbers are expected", "--features F1,F2", "F1",
       [](h5::File& f) {
         std::vector<std::string> s(12, "high");
         f.write("F1", s);
       }},
      {"a 2-D dataset where a column is expected", "--features F1,F2", "F2",
       [](h5::File& f) { f.write("F2", arma::mat(2, 6, arma::fill::ones)); }},
      {"a missing column", "--features F1,F9", "F9", [](h5::File&) {}},
      {"a missing target column", "--features F1,F2 --target Vowels", "Vowels", [](h5::File&) {}},
      {"a 1-D feature matrix", "--feature-matrix images", "images",
       [](h5::File& f) { f.write("images", arma::vec(12, arma::fill::ones)); }},
      {"a feature matrix with too few observations", "--feature-matrix images", "feature matrix",
       [](h5::File& f) { f.write("images", arma::mat(2, 9, arma::fill::ones)); }},
      {"a feature matrix of strings", "--feature-matrix images", "images",
       [](h5::File& f) { f.write("images", std::vector<std::string>(12, "x")); }},
      {"a missing feature matrix", "--feature-matrix pixels", "pixels", [](h5::File&) {}},
      {"a feature matrix with --features", "--feature-matrix images --features F1,F2", "--feature-matrix",
       [](h5::File&) {}},
      {"another 2-D dataset among the columns", "--features F1,F2", "F3",
       [](h5::File& f) { f.write("F3", arma::mat(3, 4, arma::fill::ones)); }},
      {"columns of unequal lengths", "--features F1,F2", "F2",
       [](h5::File& f) { f.write("F2", arma::vec(11, arma::fill::ones)); }},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    const std::string data = data_file(dir, "data.h5", c.flags.find("--feature-matrix") != std::string::npos, c.alter);
    std::string flags = c.flags;
    if (flags.find("--target") != std::string::npos) {  // replace the default target
      const CommandResult r = run_command(std::string(MOE_TRAIN_BIN) + " --data '" + data +
                                          "' --epochs 2 --quiet -o '" + out + "' " + flags);
      check_failure(r, "moe-train", c.needle, out);
    } else {
      check_failure(train_on(data, flags, out), "moe-train", c.needle, out);
    }
    std::filesystem::remove(data);
  }
  // The unaltered file trains (the cases above fail for their breakage alone).
  CHECK(train_on(data_file(dir, "good.h5", false, [](h5::File&) {}), "--features F1,F2", out).status == 0);
  CHECK(train_on(data_file(dir, "good-fm.h5", true, [](h5::File&) {}), "--feature-matrix images", dir / "fm.h5").status == 0);
}

TEST_CASE("bad input: moe-eval --model with a missing, misshapen or string parameter, no /model group, a bad attribute") {
  TempDir dir("bad-h5-model");
  moe::SavedModel saved = trained_model(dir, "--experts 3");
  const std::string out = dir / "eval.h5";
  for (const Breakage& b : breakages("gate/V", "experts")) {
    CAPTURE(b.what);
    const std::string model = broken_model(dir, saved, b);
    const CommandResult r = run_command(std::string(MOE_EVAL_BIN) + " --model " + model + " --data " + fixture +
                                        " --target Vowel -o " + out);
    check_failure(r, "moe-eval", b.needle, out);
  }
  // The same writer without a breakage gives a file moe-eval accepts.
  const std::string model = broken_model(dir, saved, {"none", "", "", "", false, nullptr});
  CHECK(run_command(std::string(MOE_EVAL_BIN) + " --model " + model + " --data " + fixture + " --target Vowel -o " + out)
            .status == 0);
}

TEST_CASE("bad input: moe-train --expert-models and --upcycle-from given a broken model file") {
  TempDir dir("bad-h5-experts");
  const std::string out = dir / "out.h5";
  const std::string common = std::string(MOE_TRAIN_BIN) + " --data " + fixture +
                             " --features F1,F2 --target Vowel --epochs 2 --quiet -o " + out;
  {
    moe::SavedModel mlp = trained_model(dir, "--model mlp --hidden 3");
    for (const Breakage& b : breakages("hidden/W", "hidden")) {
      CAPTURE(b.what);
      const std::string model = broken_model(dir, mlp, b);
      check_failure(run_command(common + " --model meta-pi --expert-models " + model + "," + model), "moe-train",
                    b.needle, out);
    }
    const std::string model = broken_model(dir, mlp, {"none", "", "", "", false, nullptr});
    CHECK(run_command(common + " --model meta-pi --expert-models " + model + "," + model).status == 0);
    std::filesystem::remove(out);
  }
  {
    const std::string sparse = "--model sparse --d-model 4 --d-ff 6 --router topk";
    moe::SavedModel dense = trained_model(dir, sparse + " --experts 1 --top-k 1");
    for (const Breakage& b : breakages("moe/expert0/W1", "experts")) {
      CAPTURE(b.what);
      const std::string model = broken_model(dir, dense, b);
      check_failure(run_command(common + " " + sparse + " --experts 2 --top-k 1 --upcycle-from " + model), "moe-train",
                    b.needle, out);
    }
    const std::string model = broken_model(dir, dense, {"none", "", "", "", false, nullptr});
    const CommandResult r = run_command(common + " " + sparse + " --experts 2 --top-k 1 --upcycle-from " + model);
    INFO(r.err);
    CHECK(r.status == 0);
  }
}
