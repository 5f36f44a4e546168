// The /config attribute of a results file runs again through `moe-train --config` to the same results, bit
// for bit, for every registered model kind and every registered router: /config records exactly the flags
// the run's model, router, trainer and optimiser read (with their values, given or defaulted), nothing
// empty and nothing that another entry reads, so the rerun passes the "does not apply" checks.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <map>

#include "cli/compare_results.hpp"
#include "cli/run_command.hpp"
#include "moe/h5/hdf5.hpp"
#include "moe/models/model_registry.hpp"
#include "moe/sparse/router_registry.hpp"
#include "moe/text/corpus.hpp"
#include "train_options.hpp"

using namespace moe;
using moe::test::run_command;
using moe::test::TempDir;

namespace {

const std::string vowels = " --data " + std::string(MOE_FIXTURES) + "/vowels_small.csv --features F1,F2 --target Vowel"
                           " --filter Vowel=iy,ih,aa,ah --group Speaker --train-groups 8 --valid-groups 2 --test-groups 2";

// Small sizes per model kind, so each run takes a fraction of a second; a kind not listed trains with its
// defaults. (Flags for a kind that has none of them would be refused: they are part of the test.)
const std::map<std::string, std::string> sizes{
    {"hme", " --depth 2 --branching 2"},
    {"mixture", " --experts 3 --gate-init-scale 0.1"},
    {"mlp", " --hidden 4"},
    {"meta-pi", " --experts 2 --expert softmax"},
    {"deep", " --layer-experts 2 --expert-hidden 4 --gate-hidden 4"},
    {"sparse", " --experts 4 --d-model 6 --d-ff 6 --optimizer adam --batch-size 16"},
    {"lm", " --head mos --experts 2 --context 2 --embedding 4 --hidden 6 --projection 3 --min-count 1"
           " --valid-fraction 0.25 --test-fraction 0.25"},
};

std::string corpus_file(const TempDir& dir) {
  Corpus c;
  const char* lines[] = {"The cat sat on the mat.", "The dog sat on the log.", "A cat and a dog met."};
  for (int i = 0; i < 9; ++i) c.documents.push_back({"d" + std::to_string(i), std::string(lines[i % 3]) + " " + lines[(i + 1) % 3]});
  write_corpus(dir / "corpus.txt", c);
  return dir / "corpus.txt";
}

// Runs `flags`, writes its /config to a file, runs `moe-train --config` on that file alone (plus -o), and
// compares the two results files.
void check_round_trip(const TempDir& dir, const std::string& name, const std::string& flags) {
  const std::string first = dir / (name + ".h5"), again = dir / (name + "-again.h5"), cfg = dir / (name + ".toml");
  auto r = run_command(std::string(MOE_TRAIN_BIN) + flags + " --epochs 3 --seed 5 -q -o " + first);
  INFO(r.err);
  REQUIRE(r.status == 0);
  const std::string config = h5::File::open(first).attr_string("/", "config");
  INFO(config);
  CHECK(config.find("=\"\"") == std::string::npos);  // nothing empty
  std::ofstream(cfg) << config;
  r = run_command(std::string(MOE_TRAIN_BIN) + " --config " + cfg + " -o " + again);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(moe::test::check_same_results(first, again) > 0);
  // And the rerun records the same flags, the output path aside.
  auto without_output = [](const std::string& text) {
    std::string out;
    std::size_t start = 0;
    while (start < text.size()) {
      const std::size_t end = std::min(text.find('\n', start), text.size());
      const std::string line = text.substr(start, end - start);
      if (line.rfind("output=", 0) != 0) out += line + "\n";
      start = end + 1;
    }
    return out;
  };
  CHECK(without_output(h5::File::open(again).attr_string("/", "config")) == without_output(config));
}

}  // namespace

TEST_CASE("cli config round trip: /config reruns to the same results for every model kind") {
  TempDir dir("roundtripmodels");
  const std::string corpus = corpus_file(dir);
  for (const ModelEntry& entry : ModelRegistry::instance().entries()) {
    CAPTURE(entry.name);
    const auto it = sizes.find(entry.name);
    const std::string extra = it == sizes.end() ? std::string() : it->second;
    const std::string data = entry.language_model ? " --task lm --data " + corpus : vowels;
    check_round_trip(dir, entry.name, data + " --model " + entry.name + extra);
  }
  // --task lm without --model runs (and records) the language model.
  check_round_trip(dir, "lm-default", " --task lm --data " + corpus + sizes.at("lm"));
  // The other trainers and a non-default optimiser, which bring flags of their own.
  check_round_trip(dir, "em", vowels + " --model mixture --trainer em --gate-fit least-squares --irls-iterations 3");
  // Negated flags (--no-standardize, --no-stop-at-criterion) and plain ones (--hard) come back as given.
  // (Raw formants make this gradient run explode: --divergence-factor 0 lets it finish, and round-trips too.)
  check_round_trip(dir, "flags", vowels + " --model mixture --no-standardize --hard --criterion 0.5"
                                          " --no-stop-at-criterion --divergence-factor 0");
  check_round_trip(dir, "online-em", " --data " + std::string(MOE_FIXTURES) + "/vowels_small.csv --features F1,F2"
                                     " --target F3 --task regression --group Speaker --train-groups 8 --test-groups 4"
                                     " --model hme --expert linear-gaussian --trainer online-em --forgetting 0.95");
}

TEST_CASE("cli config round trip: /config reruns to the same results for every router") {
  TempDir dir("roundtriprouters");
  for (const RouterEntry& entry : RouterRegistry::instance().entries()) {
    CAPTURE(entry.name);
    std::string flags = vowels + " --model sparse --experts 4 --d-model 6 --d-ff 6 --optimizer adam --batch-size 16"
                                 " --router " + entry.name;
    if (std::find(entry.flags.begin(), entry.flags.end(), "top-k") != entry.flags.end()) flags += " --top-k 2";
    if (std::find(entry.flags.begin(), entry.flags.end(), "capacity-factor") != entry.flags.end())
      flags += " --capacity-factor 1.5";
    if (entry.traits.has_logits) flags += " --z-loss 0.001";
    if (std::find(entry.flags.begin(), entry.flags.end(), "no-renormalize") != entry.flags.end())
      flags += " --no-renormalize";  // a negated flag must come back as given
    check_round_trip(dir, entry.name, flags);
  }
}

TEST_CASE("cli config round trip: flags set to false, and a config that spells out every default (as /config did "
          "before the registries), set nothing") {
  TempDir dir("roundtripdefaults");
  const std::string base = vowels + " --model mixture --experts 3 --epochs 3 --seed 5 -q";
  const std::string plain = dir / "plain.h5";
  auto r = run_command(std::string(MOE_TRAIN_BIN) + base + " -o " + plain);
  INFO(r.err);
  REQUIRE(r.status == 0);
  // Flags written false in a config file.
  const std::string off = dir / "off.toml", off_run = dir / "off.h5";
  std::ofstream(off) << "hard = false\nno-standardize = false\nno-stop-at-criterion = false\n";
  r = run_command(std::string(MOE_TRAIN_BIN) + base + " --config " + off + " -o " + off_run);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(moe::test::check_same_results(plain, off_run) > 0);
  CHECK(h5::File::open(off_run).attr_string("/", "config").find("hard") == std::string::npos);
  // Every option with its default, as CLI11 writes them, other models' and routers' included.
  CLI::App app;
  TrainJob job;
  bool fixed_variance = false;
  moe::cli::add_train_options(app, job, fixed_variance);
  std::vector<std::string> args{"moe-train", "--data", "x.csv", "--model", "mixture", "--experts", "3", "-o", "y.h5"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  app.parse(int(argv.size()), argv.data());
  std::string every_default = app.config_to_str(true, false);
  // Less what the command line below gives, and the empty values of options without a default
  // (feature-matrix = "", which would stand for a feature matrix: old /config files held those too).
  std::string kept;
  std::size_t start = 0;
  while (start < every_default.size()) {
    const std::size_t end = std::min(every_default.find('\n', start), every_default.size());
    const std::string line = every_default.substr(start, end - start);
    start = end + 1;
    bool drop = line.size() >= 3 && (line.substr(line.size() - 3) == "=\"\"" || line.substr(line.size() - 3) == "=[]");
    for (const char* gone : {"data=", "output=", "experts=", "model="}) drop = drop || line.rfind(gone, 0) == 0;
    if (!drop) kept += line + "\n";
  }
  every_default = kept;
  INFO(every_default);
  CHECK(every_default.find("depth=") != std::string::npos);   // an hme flag
  CHECK(every_default.find("top-k=") != std::string::npos);   // a router flag
  const std::string old = dir / "old.toml", old_run = dir / "old.h5";
  std::ofstream(old) << every_default;
  r = run_command(std::string(MOE_TRAIN_BIN) + base + " --config " + old + " -o " + old_run);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(moe::test::check_same_results(plain, old_run) > 0);
  // The same flags typed on the command line are refused: there they are the user's.
  r = run_command(std::string(MOE_TRAIN_BIN) + base + " --depth 2 -o " + (dir / "x.h5"));
  CHECK(r.status == 2);
  CHECK(r.err == "moe-train: error: --depth does not apply to --model mixture\n");
  // A `list` key is no setting.
  const std::string listing = dir / "list.toml";
  std::ofstream(listing) << "list = \"routers\"\n";
  r = run_command(std::string(MOE_TRAIN_BIN) + base + " --config " + listing + " -o " + (dir / "x.h5"));
  CHECK(r.status == 2);
  CHECK(r.out.empty());
}
