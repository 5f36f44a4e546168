// --model sparse through the apps: moe-train writes /routing (one entry per optimiser step) and the
// layer's balance per split, moe-eval reloads the model and reproduces its test predictions, a dense run
// upcycles into a sparse one, and impossible router settings are one-line errors that leave no file.
#include <doctest/doctest.h>

#include <filesystem>

#include "cli/run_command.hpp"
#include "moe/io/hdf5.hpp"

using namespace moe;
using moe::test::count_lines;
using moe::test::run_command;
using moe::test::TempDir;

namespace {
const std::string fixture = std::string(MOE_FIXTURES) + "/vowels_small.csv";
std::string train(const std::string& out, const std::string& extra, const std::string& lr = "0.01") {
  return std::string(MOE_TRAIN_BIN) + " --data " + fixture +
         " --features F1,F2 --target Vowel --filter Vowel=iy,ih,aa,ah --group Speaker --train-groups 8"
         " --test-groups 4 --model sparse --d-model 8 --d-ff 12 --optimizer adam --batch-size 16"
         " --epochs 5 --seed 3 --quiet --lr " + lr + " -o " + out + " " + extra;
}
}  // namespace

TEST_CASE("cli sparse: noisy top-k with balancing losses, /routing per step, moe-eval reproduces") {
  TempDir dir("sparsecli");
  const std::string run = dir / "run.h5", ev = dir / "ev.h5";
  auto r = run_command(train(run, "--router noisy-topk --experts 4 --top-k 2 --w-importance 0.1 --w-load 0.1"));
  INFO(r.err);
  REQUIRE(r.status == 0);
  h5::File f = h5::File::open(run);
  CHECK(f.attr_string("model", "kind") == "sparse");
  CHECK(f.attr_string("model", "sparse_router") == "noisy-topk");
  CHECK(f.read_matrix("model/params/moe/router/W_g").n_rows == 4);
  CHECK(f.read_matrix("model/params/moe/expert3/W1").n_rows == 12);
  const arma::uword n_train = f.read_matrix("eval/train/targets").n_cols;
  const arma::uword steps = 5 * ((n_train + 15) / 16);
  CHECK(f.attr_int("routing", "steps") == std::int64_t(steps));
  CHECK(f.read_vector("routing/cv_importance").n_elem == steps);
  CHECK(f.read_matrix("routing/load").n_rows == 4);
  CHECK(f.read_matrix("routing/load").n_cols == steps);
  // Every step routes each of its tokens to k = 2 experts, nothing dropped (dropless).
  const arma::mat load = f.read_matrix("routing/load");
  CHECK(arma::accu(load) == doctest::Approx(2.0 * 5 * n_train));
  CHECK(arma::abs(f.read_vector("routing/dropped_fraction")).max() == 0.0);
  CHECK(f.read_vector("routing/importance_loss").max() > 0.0);
  CHECK(f.read_vector("routing/load_loss").max() > 0.0);
  CHECK(arma::accu(f.read_vector("eval/test/routing/load")) == doctest::Approx(2.0 * f.attr_int("eval/test", "n")));
  CHECK(f.has_attr("eval/test/routing", "cv_importance"));
  CHECK(f.read_matrix("eval/test/gate").n_rows == 4);

  // moe-eval on the whole fixture: the test speakers' rows get moe-train's test predictions.
  r = run_command(std::string(MOE_EVAL_BIN) + " --model " + run + " --data " + fixture +
                  " --target Vowel --filter Vowel=iy,ih,aa,ah --group Speaker --name all -o " + ev);
  INFO(r.err);
  REQUIRE(r.status == 0);
  h5::File e = h5::File::open(ev);
  const std::string part = "eval/all";
  const arma::mat pred = f.read_matrix("eval/test/predictions"), all = e.read_matrix(part + "/predictions");
  const auto test_groups = f.read_strings("eval/test/groups"), all_groups = e.read_strings(part + "/groups");
  arma::uword j = 0;
  for (arma::uword c = 0; c < all_groups.size() && j < pred.n_cols; ++c)
    if (all_groups[c] == test_groups[j]) CHECK(arma::abs(all.col(c) - pred.col(j++)).max() < 1e-12);
  CHECK(j == pred.n_cols);
}

TEST_CASE("cli sparse: a dense run upcycled into 4 experts starts from the dense predictions") {
  TempDir dir("upcycle");
  const std::string dense = dir / "dense.h5", up = dir / "up.h5";
  auto r = run_command(train(dense, "--router topk --experts 1 --top-k 1"));
  INFO(r.err);
  REQUIRE(r.status == 0);
  // Zero epochs and a zero rate are refused; a step of 1e-300 leaves O(1) weights where they began.
  r = run_command(train(up, "--router topk --experts 4 --top-k 2 --upcycle-from " + dense, "1e-300"));
  INFO(r.err);
  REQUIRE(r.status == 0);
  h5::File a = h5::File::open(dense), b = h5::File::open(up);
  CHECK(arma::abs(a.read_matrix("eval/test/predictions") - b.read_matrix("eval/test/predictions")).max() < 1e-12);
  CHECK(arma::abs(b.read_matrix("model/params/moe/expert3/W1") - a.read_matrix("model/params/moe/expert0/W1")).max() == 0.0);
}

TEST_CASE("cli sparse: impossible settings are one-line errors and leave no file") {
  TempDir dir("sparsebad");
  const std::string out = dir / "bad.h5";
  const std::pair<std::string, std::string> cases[] = {
      {"--router topk --w-load 0.1", "moe-train: error: --w-load (the smooth load estimator) needs --router noisy-topk (got topk)\n"},
      {"--router fancy", "moe-train: error: unknown --router 'fancy' (expected topk, noisy-topk, switch, gshard, hash, "
                         "expert-choice, soft, balanced or loss-free)\n"},
      {"--router topk --experts 4 --top-k 5", "moe-train: error: --top-k must be between 1 and --experts (got 5 of 4)\n"},
      {"--router hash --z-loss 0.001", "moe-train: error: --switch-alpha and --z-loss need a router with logits (not hash)\n"},
      {"--router soft --w-importance 0.1", "moe-train: error: --w-importance needs a routed layer (soft MoE has no routing plan)\n"},
      {"--ffn-activation tanh", "moe-train: error: unknown FFN activation 'tanh' (expected relu or gelu)\n"},
      {"--router topk --upcycle-from " + (dir / "missing.h5"),
       "moe-train: error: dense model file '" + (dir / "missing.h5") + "' does not exist\n"},
  };
  for (const auto& [flags, message] : cases) {
    CAPTURE(flags);
    const auto r = run_command(train(out, flags));
    CHECK(r.status == 1);
    CHECK(r.err == message);
    CHECK(count_lines(r.err) == 1);
    CHECK_FALSE(std::filesystem::exists(out));
  }
}
