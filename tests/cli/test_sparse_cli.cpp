// --model sparse through the apps: moe-train writes /routing (one entry per optimiser step) and the
// layer's balance per split, moe-eval reloads the model and reproduces its test predictions, a dense run
// upcycles into a sparse one, and impossible router settings are one-line errors that leave no file.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "cli/run_command.hpp"
#include "moe/h5/hdf5.hpp"
#include "moe/backend/cuda_sparse_ffn.hpp"
#include "moe/text/corpus.hpp"

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

TEST_CASE("cli sparse: early stopping keeps the loss-free bias of its best epoch, and evaluation ignores the batch") {
  TempDir dir("sparsestop");
  const std::string run = dir / "run.h5", all = dir / "all.h5", some = dir / "some.h5";
  const std::string cmd = std::string(MOE_TRAIN_BIN) + " --data " + fixture +
                          " --features F1,F2 --target Vowel --filter Vowel=iy,ih,aa,ah --group Speaker --train-groups 6"
                          " --valid-groups 2 --test-groups 4 --model sparse --d-model 8 --d-ff 12 --optimizer adam"
                          " --batch-size 16 --epochs 12 --patience 2 --seed 5 --quiet --lr 0.05 --router loss-free"
                          " --experts 4 --top-k 1 --bias-rate 0.05 --capacity-factor 1.0 -o " + run;
  auto r = run_command(cmd);
  INFO(r.err);
  REQUIRE(r.status == 0);
  h5::File f = h5::File::open(run);
  const long best = f.attr_int("history", "best_epoch");
  REQUIRE(best >= 1);
  // The saved model is the best epoch's, bias included: its validation loss is that epoch's.
  CHECK(f.attr_double("eval/valid", "loss") == doctest::Approx(f.read_vector("history/valid_loss")[best - 1]).epsilon(1e-12));
  CHECK(arma::abs(f.read_matrix("model/params/moe/router/bias")).max() > 0.0);
  // Capacity binds in training only: the same rows get the same predictions evaluated with all speakers
  // or with three of them.
  const std::string eval = std::string(MOE_EVAL_BIN) + " --model " + run + " --data " + fixture +
                           " --target Vowel --filter Vowel=iy,ih,aa,ah --group Speaker";
  r = run_command(eval + " --name all -o " + all);
  INFO(r.err);
  REQUIRE(r.status == 0);
  r = run_command(eval + " --filter Speaker=1,34,62 --name some -o " + some);
  INFO(r.err);
  REQUIRE(r.status == 0);
  h5::File a = h5::File::open(all), b = h5::File::open(some);
  const arma::mat pa = a.read_matrix("eval/all/predictions"), pb = b.read_matrix("eval/some/predictions");
  const auto ga = a.read_strings("eval/all/groups"), gb = b.read_strings("eval/some/groups");
  arma::uword j = 0;
  for (arma::uword c = 0; c < ga.size() && j < gb.size(); ++c)
    if (ga[c] == gb[j]) CHECK(arma::abs(pa.col(c) - pb.col(j++)).max() == 0.0);
  CHECK(j == gb.size());
  CHECK(j > 0);
  CHECK(a.attr_double("eval/all/routing", "dropped_fraction") == 0.0);
}

TEST_CASE("cli sparse: a language model with a sparse MoE layer, reloaded by moe-eval") {
  TempDir dir("sparselm");
  Corpus c;
  const char* lines[] = {"The cat sat on the mat.", "The dog sat on the log.", "A cat and a dog met.",
                         "The mat was red. The log was old.", "A dog ran. A cat sat."};
  for (int i = 0; i < 12; ++i) c.documents.push_back({"d" + std::to_string(i), std::string(lines[i % 5]) + " " + lines[(i + 3) % 5]});
  const std::string corpus = dir / "corpus.txt", run = dir / "run.h5", ev = dir / "ev.h5";
  write_corpus(corpus, c);
  const std::string split = " --valid-fraction 0.25 --test-fraction 0.25 --min-count 1";
  auto r = run_command(std::string(MOE_TRAIN_BIN) + " --task lm --data " + corpus + split +
                       " --head softmax --moe-layer --router gshard --experts 4 --d-ff 6 --switch-alpha 0.01 --context 2"
                       " --embedding 4 --hidden 8 --projection 3 --optimizer adam --lr 0.02 --batch-size 16 --epochs 4"
                       " --seed 4 --quiet -o " + run);
  INFO(r.err);
  REQUIRE(r.status == 0);
  h5::File f = h5::File::open(run);
  CHECK(f.attr_int("model", "moe_layer") == 1);
  CHECK(f.attr_string("model", "sparse_router") == "gshard");
  CHECK(f.read_matrix("model/params/moe/expert3/W1").n_cols == 8);  // d_model = --hidden
  CHECK(f.attr_int("routing", "steps") >= 4);
  CHECK(arma::accu(f.read_vector("eval/test/routing/load")) == doctest::Approx(2.0 * f.attr_int("eval/test", "n")));
  r = run_command(std::string(MOE_EVAL_BIN) + " --model " + run + " --data " + corpus + split +
                  " --part test --split-seed 4 --name test -q -o " + ev);
  INFO(r.err);
  REQUIRE(r.status == 0);
  h5::File e = h5::File::open(ev);
  CHECK(e.attr_double("eval/test", "loss") == doctest::Approx(f.attr_double("eval/test", "loss")).epsilon(1e-12));
}

TEST_CASE("cli sparse: every router flag can come from a --config file") {
  TempDir dir("sparsecfg");
  const std::string cfg = dir / "moe.toml", run = dir / "run.h5";
  {
    std::ofstream out(cfg);
    out << "router = \"switch\"\nexperts = 4\ncapacity-factor = 1.25\nswitch-alpha = 0.01\nz-loss = 0.001\n"
           "d-ff = 9\nffn-activation = \"gelu\"\nshared-experts = 1\nw-importance = 0.05\n"
           "router-init-scale = 0.5\n";
  }
  auto r = run_command(train(run, "--config " + cfg));
  INFO(r.err);
  REQUIRE(r.status == 0);
  h5::File f = h5::File::open(run);
  CHECK(f.attr_string("model", "sparse_router") == "switch");
  CHECK(f.attr_double("model", "sparse_capacity_factor") == 1.25);
  CHECK(f.attr_double("model", "sparse_switch_alpha") == 0.01);
  CHECK(f.attr_double("model", "sparse_z_loss") == 0.001);
  CHECK(f.attr_string("model", "sparse_ffn_activation") == "gelu");
  CHECK(f.read_matrix("model/params/moe/shared/expert0/W1").n_rows == 12);  // the command line's --d-ff 12 wins
  CHECK(f.read_vector("routing/switch_loss").min() > 0.0);
  CHECK(f.read_vector("routing/z_loss").min() > 0.0);
  CHECK(f.attr_double("model", "sparse_w_importance") == 0.05);
  CHECK(f.attr_double("model", "sparse_router_init_scale") == 0.5);
  // The other routers' own keys.
  const std::pair<std::string, std::string> more[] = {
      {"router = \"noisy-topk\"\ntop-k = 3\nw-load = 0.2\n", "sparse_w_load"},
      {"router = \"soft\"\nslots-per-expert = 3\n", "sparse_slots_per_expert"},
      {"router = \"gshard\"\ngshard-threshold = 0.25\n", "sparse_gshard_threshold"},
      {"router = \"loss-free\"\nbias-rate = 0.002\nno-renormalize = true\n", "sparse_renormalize"},
  };
  const double expected[] = {0.2, 3, 0.25, 0};  // typed attributes: numbers as float64, counts and flags int64
  for (std::size_t i = 0; i < 4; ++i) {
    CAPTURE(more[i].first);
    std::ofstream(cfg) << more[i].first;
    const std::string out = dir / ("more" + std::to_string(i) + ".h5");
    r = run_command(train(out, "--config " + cfg));
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(h5::File::open(out).attr_double("model", more[i].second) == expected[i]);
  }
}

TEST_CASE("cli sparse: impossible settings are one-line errors and leave no file") {
  TempDir dir("sparsebad");
  const std::string out = dir / "bad.h5";
  const std::pair<std::string, std::string> cases[] = {
      {"--router topk --w-load 0.1", "moe-train: error: --w-load does not apply to --router topk\n"},
      {"--router topk --experts 4 --top-k 5", "moe-train: error: --top-k must be between 1 and --experts (got 5 of 4)\n"},
      {"--router hash --z-loss 0.001", "moe-train: error: --switch-alpha and --z-loss need a router with logits (not hash)\n"},
      {"--router soft --w-importance 0.1", "moe-train: error: --w-importance needs a routed layer (--router soft has no routing plan)\n"},
      {"--ffn-activation tanh", "moe-train: error: unknown FFN activation 'tanh' (expected relu or gelu)\n"},
      {"--router gshard --experts 1", "moe-train: error: --router gshard needs at least 2 experts\n"},
      {"--router switch --top-k 2", "moe-train: error: --top-k does not apply to --router switch\n"},
      {"--router topk --slots-per-expert 4", "moe-train: error: --slots-per-expert does not apply to --router topk\n"},
      {"--router soft --slots-per-expert 0", "moe-train: error: --slots-per-expert must be between 1 and 65536 (got 0)\n"},
      {"--router expert-choice --top-k 0", "moe-train: error: --router expert-choice takes c = --capacity-factor, or "
                                           "--top-k when that is <= 0: one must be positive\n"},
      {"--router hash --w-importance 0.1", "moe-train: error: --w-importance cannot move --router hash (it has no parameters)\n"},
      {"--router topk --upcycle-from " + (dir / "missing.h5"),
       "moe-train: error: dense model file '" + (dir / "missing.h5") + "' does not exist\n"},
  };
  for (const auto& bad_case : cases) {  // not a structured binding: clang 14 cannot capture one in CAPTURE
    const std::string &flags = bad_case.first, &message = bad_case.second;
    CAPTURE(flags);
    const auto r = run_command(train(out, flags));
    CHECK(r.status == (message.find("does not apply") != std::string::npos ? 2 : 1));  // a usage error: 2
    CHECK(r.err == message);
    CHECK(count_lines(r.err) == 1);
    CHECK_FALSE(std::filesystem::exists(out));
  }
}

// The sparse family trains on the CPU backend only for now; the CUDA kernels alone are built with
// -DMOE_CUDA=ON (moe-bench sparse --device cuda, test_cuda_kernels.cpp).
TEST_CASE("cli sparse: --device cuda is a one-line error and leaves no file" * doctest::skip(kernels::cuda_built())) {
  TempDir dir("sparsecuda");
  const std::string out = dir / "cuda.h5";
  const auto r = run_command(train(out, "--router topk --device cuda"));
  CHECK(r.status == 1);
  CHECK(r.err == "moe-train: error: unknown --device 'cuda' (expected cpu)\n");
  CHECK_FALSE(std::filesystem::exists(out));
  const auto b = run_command(std::string(MOE_BENCH_BIN) + " sparse --device cuda --experts 8");
  CHECK(b.status == 1);
  CHECK(b.err == "moe-bench: error: this build has no CUDA backend (configure with -DMOE_CUDA=ON on a machine with "
                 "the CUDA toolkit)\n");
  CHECK(b.out.empty());
}

TEST_CASE("cli moe-bench sparse: impossible settings are one-line errors, nothing on stdout, no table file") {
  TempDir dir("benchbad");
  const std::string csv = dir / "t.csv";
  const std::pair<std::string, std::string> cases[] = {
      {"--k 9 --experts 8", "moe-bench: error: --k 9 is larger than --experts 8\n"},
      {"--precision bf16", "moe-bench: error: --precision on the CPU is float or double (got bf16)\n"},
      {"--tokens 0", "moe-bench: error: --tokens, --d-model, --d-ff, --experts and --k must be at least 1\n"},
      {"--imbalance -1", "moe-bench: error: --imbalance must be finite and >= 0\n"},
      {"--device tpu", "moe-bench: error: unknown --device 'tpu' (expected cpu or cuda)\n"},
      {"--steps 0", "moe-bench: error: --steps must be at least 1\n"},
  };
  for (const auto& bad_case : cases) {  // not a structured binding: clang 14 cannot capture one in CAPTURE
    const std::string &flags = bad_case.first, &message = bad_case.second;
    CAPTURE(flags);
    const auto r = run_command(std::string(MOE_BENCH_BIN) + " sparse --csv " + csv + " " + flags);
    CHECK(r.status == 1);
    CHECK(r.err == message);
    CHECK(r.out.empty());
    CHECK_FALSE(std::filesystem::exists(csv));
  }
}

TEST_CASE("cli moe-bench: unknown flags and negative counts are one-line usage errors (exit 2)") {
  const std::pair<std::string, std::string> cases[] = {
      {"sparse --bogus", "moe-bench: error: The following argument was not expected: --bogus (see --help)\n"},
      {"sparse --tokens -1", "moe-bench: error: --tokens: must not be negative (got -1) (see --help)\n"},
      {"lm --steps -2", "moe-bench: error: --steps: must not be negative (got -2) (see --help)\n"},
  };
  for (const auto& bad_case : cases) {  // not a structured binding: clang 14 cannot capture one in CAPTURE
    const std::string &flags = bad_case.first, &message = bad_case.second;
    CAPTURE(flags);
    const auto r = run_command(std::string(MOE_BENCH_BIN) + " " + flags);
    CHECK(r.status == 2);
    CHECK(r.err == message);
    CHECK(r.out.empty());
  }
}

TEST_CASE("cli moe-bench sparse: a small CPU run writes its table with the closed-form FLOP counts (its OpenMP loops run)") {
  TempDir dir("bench-ok");
  const std::string h5 = dir / "bench.h5";
  const auto r = run_command(std::string(MOE_BENCH_BIN) + " sparse --tokens 256 --d-model 32 --d-ff 64 --experts 4 "
                             "--k 2 --steps 1 --threads 2 --hdf5 " + h5);
  CAPTURE(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("threads 2") != std::string::npos);
  h5::File f = h5::File::open(h5);
  // Dropless top-2: 256 tokens x 2 assignments, each two GEMMs of 32 x 64 (2 FLOPs a multiply-add).
  CHECK(f.read_vector("sparse/assignments")(0) == 512.0);
  CHECK(f.read_vector("sparse/forward_flops")(0) == 512.0 * 2 * 2 * 32 * 64);
  CHECK(f.read_vector("sparse/training_flops")(0) == 3 * 512.0 * 2 * 2 * 32 * 64);
  CHECK(f.read_vector("sparse/forward_seconds")(0) > 0.0);
}
