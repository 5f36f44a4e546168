// The registries through the apps: `moe-train --list KIND` prints every registered entry, an unknown name
// is a usage error (exit 2), a flag the chosen entry does not read is a usage error naming both (exit 2), and the sigmoid
// top-k router (added through the registry alone)
// trains in --model sparse and in a language model's MoE layer, with its balancing bias saved and
// reloaded by moe-eval.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "cli/run_command.hpp"
#include "moe/experts/expert_registry.hpp"
#include "moe/gates/gate_registry.hpp"
#include "moe/h5/hdf5.hpp"
#include "moe/models/model_registry.hpp"
#include "moe/sparse/router_registry.hpp"
#include "moe/text/corpus.hpp"
#include "moe/train/optimizer_registry.hpp"
#include "moe/train/trainer_registry.hpp"
#include "train_options.hpp"

using namespace moe;
using moe::test::count_lines;
using moe::test::run_command;
using moe::test::TempDir;

namespace {
const std::string fixture = std::string(MOE_FIXTURES) + "/vowels_small.csv";
const std::string vowels = " --data " + fixture + " --features F1,F2 --target Vowel --filter Vowel=iy,ih,aa,ah"
                           " --group Speaker --train-groups 8 --test-groups 4";
}  // namespace

TEST_CASE("cli registry: --list routers prints every registered router with its help, without other flags") {
  const auto r = run_command(std::string(MOE_TRAIN_BIN) + " --list routers");
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.err.empty());
  const auto& entries = RouterRegistry::instance().entries();
  CHECK(std::size_t(count_lines(r.out)) == entries.size());
  for (const RouterEntry& e : entries) {
    CAPTURE(e.name);
    CHECK(r.out.find("  " + e.name + " ") != std::string::npos);
    CHECK(r.out.find(e.help + "\n") != std::string::npos);
  }
  CHECK(r.out.find("  sigmoid-topk ") != std::string::npos);
  // --help names every router too (its choices come from the registry).
  const auto help = run_command(std::string(MOE_TRAIN_BIN) + " --help");
  for (const RouterEntry& e : entries) CHECK(help.out.find(e.name) != std::string::npos);
  // A kind that is not listable is a usage error.
  const auto bad = run_command(std::string(MOE_TRAIN_BIN) + " --list widgets");
  CHECK(bad.status == 2);
  CHECK(count_lines(bad.err) == 1);
  CHECK(bad.out.empty());
}

TEST_CASE("cli registry: an unknown --router is a usage error (exit 2), on the command line and in a config file") {
  TempDir dir("registrybad");
  const std::string out = dir / "o.h5", cfg = dir / "c.toml";
  auto r = run_command(std::string(MOE_TRAIN_BIN) + vowels + " --model sparse --router fancy -q -o " + out);
  CHECK(r.status == 2);
  CHECK(count_lines(r.err) == 1);
  CHECK(r.err.rfind("moe-train: error: --router: fancy not in {", 0) == 0);
  CHECK(r.err.find("sigmoid-topk") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(out));
  std::ofstream(cfg) << "router = \"fancy\"\n";
  r = run_command(std::string(MOE_TRAIN_BIN) + vowels + " --model sparse --config " + cfg + " -q -o " + out);
  CHECK(r.status == 2);
  CHECK(count_lines(r.err) == 1);
  CHECK_FALSE(std::filesystem::exists(out));
}

TEST_CASE("cli registry: sigmoid top-k trains a sparse network, moves its bias, and moe-eval reproduces it") {
  TempDir dir("sigmoidcli");
  const std::string run = dir / "run.h5", ev = dir / "ev.h5";
  auto r = run_command(std::string(MOE_TRAIN_BIN) + vowels +
                       " --model sparse --router sigmoid-topk --experts 4 --top-k 2 --bias-rate 0.01 --d-model 8"
                       " --d-ff 12 --optimizer adam --batch-size 16 --epochs 5 --seed 3 --lr 0.01 -q -o " + run);
  INFO(r.err);
  REQUIRE(r.status == 0);
  h5::File f = h5::File::open(run);
  CHECK(f.attr_string("model", "sparse_router") == "sigmoid-topk");
  const arma::vec bias = f.read_vector("model/params/moe/router/bias");
  REQUIRE(bias.n_elem == 4);
  CHECK(arma::abs(bias).max() > 0.0);  // the balancing bias moved during training
  const arma::uword n_train = f.read_matrix("eval/train/targets").n_cols;
  CHECK(arma::accu(f.read_matrix("routing/load")) == doctest::Approx(2.0 * 5 * n_train));  // k = 2, dropless
  r = run_command(std::string(MOE_EVAL_BIN) + " --model " + run + " --data " + fixture +
                  " --target Vowel --filter Vowel=iy,ih,aa,ah --group Speaker --name all -o " + ev);
  INFO(r.err);
  REQUIRE(r.status == 0);
  h5::File e = h5::File::open(ev);
  // moe-eval's predictions of the test speakers' rows equal moe-train's (the bias reloaded with the model).
  const arma::mat pred = f.read_matrix("eval/test/predictions"), all = e.read_matrix("eval/all/predictions");
  const auto test_groups = f.read_strings("eval/test/groups"), all_groups = e.read_strings("eval/all/groups");
  arma::uword j = 0;
  for (arma::uword col = 0; col < all_groups.size() && j < pred.n_cols; ++col)
    if (all_groups[col] == test_groups[j]) CHECK(arma::abs(all.col(col) - pred.col(j++)).max() < 1e-12);
  CHECK(j == pred.n_cols);
  // Flags it does not read are refused, naming both.
  r = run_command(std::string(MOE_TRAIN_BIN) + vowels + " --model sparse --router sigmoid-topk --gshard-threshold 0.3"
                  " -q -o " + (dir / "x.h5"));
  CHECK(r.status == 2);
  CHECK(r.err == "moe-train: error: --gshard-threshold does not apply to --router sigmoid-topk\n");
}

TEST_CASE("cli registry: sigmoid top-k as a language model's MoE layer") {
  TempDir dir("sigmoidlm");
  Corpus c;
  const char* lines[] = {"The cat sat on the mat.", "The dog sat on the log.", "A cat and a dog met.",
                         "The mat was red. The log was old.", "A dog ran. A cat sat."};
  for (int i = 0; i < 12; ++i) c.documents.push_back({"d" + std::to_string(i), std::string(lines[i % 5]) + " " + lines[(i + 3) % 5]});
  const std::string corpus = dir / "corpus.txt", run = dir / "run.h5", ev = dir / "ev.h5";
  write_corpus(corpus, c);
  const std::string split = " --valid-fraction 0.25 --test-fraction 0.25 --min-count 1";
  auto r = run_command(std::string(MOE_TRAIN_BIN) + " --task lm --data " + corpus + split +
                       " --head softmax --moe-layer --router sigmoid-topk --experts 4 --top-k 2 --d-ff 6 --z-loss 0.001"
                       " --context 2 --embedding 4 --hidden 8 --projection 3 --optimizer adam --lr 0.02 --batch-size 16"
                       " --epochs 4 --seed 4 --quiet -o " + run);
  INFO(r.err);
  REQUIRE(r.status == 0);
  h5::File f = h5::File::open(run);
  CHECK(f.attr_string("model", "sparse_router") == "sigmoid-topk");
  CHECK(f.read_vector("model/params/moe/router/bias").n_elem == 4);
  CHECK(f.read_vector("routing/z_loss").min() > 0.0);
  CHECK(arma::accu(f.read_vector("eval/test/routing/load")) == doctest::Approx(2.0 * f.attr_int("eval/test", "n")));
  r = run_command(std::string(MOE_EVAL_BIN) + " --model " + run + " --data " + corpus + split +
                  " --part test --split-seed 4 --name test -q -o " + ev);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(h5::File::open(ev).attr_double("eval/test", "loss") ==
        doctest::Approx(f.attr_double("eval/test", "loss")).epsilon(1e-12));
}

TEST_CASE("cli registry: --list prints every registry, and every flag an entry reads is a moe-train flag") {
  const std::vector<std::pair<std::string, std::vector<std::string>>> kinds{
      {"models", ModelRegistry::instance().names()},   {"routers", RouterRegistry::instance().names()},
      {"experts", ExpertRegistry::instance().names()}, {"gates", GateRegistry::instance().names()},
      {"trainers", TrainerRegistry::instance().names()}, {"optimizers", OptimizerRegistry::instance().names()}};
  // The config fuzzer's dictionary offers every registered name (tests/fuzz/dicts/config.dict).
  std::ifstream dict(std::string(MOE_FUZZ_DIR) + "/dicts/config.dict");
  REQUIRE(dict);
  const std::string dictionary{std::istreambuf_iterator<char>(dict), {}};
  for (const auto& [kind, names] : kinds) {
    CAPTURE(kind);
    REQUIRE(!names.empty());
    for (const std::string& name : names) CHECK(dictionary.find("\n\"" + name + "\"\n") != std::string::npos);
    const auto r = run_command(std::string(MOE_TRAIN_BIN) + " --list " + kind);
    REQUIRE(r.status == 0);
    CHECK(std::size_t(count_lines(r.out)) == names.size());
    for (const std::string& name : names) CHECK(r.out.find("  " + name + " ") != std::string::npos);
  }
  // The flags the registries name exist (a misspelt one would never be checked), and the sparse layer's
  // flag list is exactly what apps/sparse_options.hpp adds.
  CLI::App app;
  TrainJob job;
  bool fixed_variance = false;
  moe::cli::add_train_options(app, job, fixed_variance);
  std::vector<std::string> flags = ModelRegistry::instance().flags();
  for (const auto& more : {RouterRegistry::instance().flags(), TrainerRegistry::instance().flags(),
                           OptimizerRegistry::instance().flags(), sparse_layer_flags()})
    flags.insert(flags.end(), more.begin(), more.end());
  for (const std::string& flag : flags) {
    CAPTURE(flag);
    CHECK_NOTHROW(app.get_option("--" + flag));
  }
  CLI::App sparse_only;
  SparseLayerSpec spec;
  moe::cli::add_sparse_model_options(sparse_only, spec);
  std::vector<std::string> added;
  for (const CLI::Option* o : sparse_only.get_options())
    if (o->get_name() != "--help") added.push_back(o->get_lnames().front());
  std::vector<std::string> declared = sparse_layer_flags();
  std::sort(added.begin(), added.end());
  std::sort(declared.begin(), declared.end());
  CHECK(added == declared);
}

TEST_CASE("cli registry: a flag the chosen model, router, trainer or optimiser does not read is refused") {
  TempDir dir("registryunused");
  const std::string out = dir / "o.h5";
  const std::pair<std::string, std::string> cases[] = {
      {"--model hme --experts 7", "moe-train: error: --experts does not apply to --model hme\n"},
      {"--router switch --top-k 3 --depth 5 --hidden 100", "moe-train: error: --depth does not apply to --model mixture\n"},
      {"--trainer em --optimizer adam --batch-size 10", "moe-train: error: --batch-size does not apply to --trainer em\n"},
      {"--model mlp --gate gaussian", "moe-train: error: --gate does not apply to --model mlp\n"},
      {"--model sparse --router topk --gshard-threshold 0.2", "moe-train: error: --gshard-threshold does not apply to --router topk\n"},
      {"--optimizer adam --momentum 0.5", "moe-train: error: --momentum does not apply to --optimizer adam\n"},
      {"--trainer em --beta1 0.5", "moe-train: error: --beta1 does not apply to --trainer em\n"},
      {"--model deep --hard", "moe-train: error: --hard does not apply to --model deep\n"},
  };
  for (const auto& bad_case : cases) {
    const std::string &flags = bad_case.first, &message = bad_case.second;
    CAPTURE(flags);
    const auto r = run_command(std::string(MOE_TRAIN_BIN) + vowels + " " + flags + " -q -o " + out);
    CHECK(r.status == 2);  // a usage error
    CHECK(r.err == message);
    CHECK_FALSE(std::filesystem::exists(out));
  }
  // A language model reads the sparse layer's flags only with --moe-layer.
  TempDir lm("registrylm");
  Corpus c;
  c.documents.push_back({"d0", "The cat sat on the mat. The dog sat on the log."});
  write_corpus(lm / "corpus.txt", c);
  const auto r = run_command(std::string(MOE_TRAIN_BIN) + " --task lm --data " + (lm / "corpus.txt") +
                             " --router switch -q -o " + out);
  CHECK(r.status == 2);
  CHECK(r.err == "moe-train: error: --router needs --moe-layer\n");
  // Unknown names of every registry are usage errors (exit 2).
  for (const char* flag : {"--model", "--gate", "--trainer", "--optimizer"}) {
    CAPTURE(flag);
    const auto u = run_command(std::string(MOE_TRAIN_BIN) + vowels + " " + flag + " nonsense -q -o " + out);
    CHECK(u.status == 2);
    CHECK(count_lines(u.err) == 1);
  }
}

TEST_CASE("cli registry: the Gaussian gate in an hme and a meta-pi network trains by gradient, and EM is refused there") {
  TempDir dir("registrygates");
  const std::string run = dir / "hme.h5", ev = dir / "ev.h5";
  auto r = run_command(std::string(MOE_TRAIN_BIN) + vowels + " --model hme --depth 2 --branching 2 --gate gaussian"
                       " --gate-init-scale 0.5 --optimizer adam --lr 0.02 --epochs 20 -q -o " + run);
  INFO(r.err);
  REQUIRE(r.status == 0);
  h5::File f = h5::File::open(run);
  CHECK(f.attr_string("model", "gate") == "gaussian");
  CHECK(f.read_matrix("model/params/gate0/means").n_cols == 2);
  const arma::vec loss = f.read_vector("history/loss");
  CHECK(loss(loss.n_elem - 1) < loss(0));
  r = run_command(std::string(MOE_EVAL_BIN) + " --model " + run + " --data " + fixture +
                  " --target Vowel --filter Vowel=iy,ih,aa,ah --group Speaker --name all -q -o " + ev);
  INFO(r.err);
  CHECK(r.status == 0);
  r = run_command(std::string(MOE_TRAIN_BIN) + vowels + " --model meta-pi --experts 2 --gate gaussian --epochs 5 -q -o " +
                  (dir / "mp.h5"));
  INFO(r.err);
  CHECK(r.status == 0);
  r = run_command(std::string(MOE_TRAIN_BIN) + vowels + " --model hme --gate gaussian --trainer em -q -o " + (dir / "x.h5"));
  CHECK(r.status == 1);
  CHECK(r.err == "moe-train: error: --trainer em needs a model EM can train: a mixture, or an hme of linear gates (got "
                 "--model hme with --gate gaussian)\n");
  CHECK_FALSE(std::filesystem::exists(dir / "x.h5"));
}
