// docs/results-format.md against real files: one moe-train run of every registered model kind (plus a
// regression EM run with a Gaussian gate, a moe-eval file and a --predict-only file) is walked group by
// group and compared with the page's ```schema blocks in both directions: every group, dataset and
// attribute in the file is documented with the same type, and every entry documented without `?` is in
// the file.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <cctype>
#include <set>
#include <sstream>

#include "cli/run_command.hpp"
#include "moe/h5/hdf5.hpp"
#include "moe/models/model_registry.hpp"
#include "moe/text/corpus.hpp"

using moe::test::CommandResult;
using moe::test::run_command;
using moe::test::TempDir;
namespace h5 = moe::h5;

namespace {

struct Entry {
  std::string type;
  bool optional = false;
};
using Schema = std::map<std::string, Entry>;  // normalised path -> type

// The ```schema NAME blocks of docs/results-format.md: lines "PATH TYPE [?] description".
std::map<std::string, Schema> documented_blocks() {
  std::ifstream in(std::string(MOE_SOURCE_DIR) + "/docs/results-format.md");
  REQUIRE(in);
  std::map<std::string, Schema> blocks;
  std::string line, block;
  while (std::getline(in, line)) {
    if (line.rfind("```schema ", 0) == 0) {
      block = line.substr(10);
      blocks[block];
      continue;
    }
    if (line.rfind("```", 0) == 0) {
      block.clear();
      continue;
    }
    if (block.empty() || line.empty()) continue;
    std::istringstream words(line);
    std::string path, type, mark;
    words >> path >> type >> mark;
    INFO(line);
    REQUIRE(!type.empty());
    REQUIRE(blocks[block].count(path) == 0);  // each entry documented once per block
    blocks[block][path] = Entry{type, mark == "?"};
  }
  return blocks;
}

// /eval/test/gate -> /eval/<part>/gate; expert12 -> expert<i> (a name's trailing digits after a lowercase letter or
// '_', at the end of a path component). Written by hand: std::regex trips GCC 12's -Wmaybe-uninitialized
// in the sanitizer build.
std::string normalise(const std::string& path) {
  std::string in = path;
  if (in.rfind("/eval/", 0) == 0) {
    const std::size_t end = in.find_first_of("/@", 6);
    in = "/eval/<part>" + (end == std::string::npos ? std::string() : in.substr(end));
  }
  std::string out;
  for (std::size_t i = 0; i < in.size();) {
    const bool digit = std::isdigit(static_cast<unsigned char>(in[i]));
    const bool after_name = !out.empty() && (std::islower(static_cast<unsigned char>(out.back())) || out.back() == '_');
    if (digit && after_name) {
      std::size_t j = i;
      while (j < in.size() && std::isdigit(static_cast<unsigned char>(in[j]))) ++j;
      if (j == in.size() || in[j] == '/' || in[j] == '@') {
        out += "<i>";
        i = j;
        continue;
      }
    }
    out += in[i++];
  }
  return out;
}

void walk(const h5::File& f, const std::string& group, std::map<std::string, std::string>& out) {
  const std::string base = group == "/" ? "" : group;
  for (const std::string& a : f.attributes(group)) out[normalise(base + (base.empty() ? "/" : "") + "@" + a)] = f.attr_type(group, a);
  for (const std::string& child : f.children(group)) {
    const std::string path = base + "/" + child;
    if (f.is_group(path)) {
      out[normalise(path)] = "group";
      walk(f, path, out);
    } else {
      out[normalise(path)] = f.dataset_type(path);
      for (const std::string& a : f.attributes(path)) out[normalise(path + "@" + a)] = f.attr_type(path, a);
    }
  }
}

// Compares the file with the union of `names` blocks. An eval file must hold only the documented /eval
// and root entries of the model's kind (its /model, /history and /routing are in the model's file).
void check_file(const std::string& path, const std::vector<std::string>& names, bool eval_file) {
  const auto blocks = documented_blocks();
  Schema expected;
  for (const std::string& name : names) {
    REQUIRE_MESSAGE(blocks.count(name), "docs/results-format.md has no ```schema " << name << " block");
    for (const auto& [p, e] : blocks.at(name)) expected[p] = e;
  }
  std::map<std::string, std::string> found;
  walk(h5::File::open(path), "/", found);
  CHECK(found.size() > 20);
  for (const auto& [p, type] : found) {
    CAPTURE(p);
    CAPTURE(type);
    const auto it = expected.find(p);
    CHECK_MESSAGE(it != expected.end(), "undocumented in docs/results-format.md: " << p << " " << type);
    if (it != expected.end()) CHECK(it->second.type == type);
  }
  for (const auto& [p, e] : expected) {
    if (e.optional) continue;
    if (eval_file && !(p.rfind("/eval", 0) == 0 || p.rfind("/@", 0) == 0)) continue;
    CAPTURE(p);
    CHECK_MESSAGE(found.count(p), "documented without ? but not written: " << p);
  }
}

const std::string vowels = " --data " + std::string(MOE_FIXTURES) + "/vowels_small.csv --features F1,F2 --target Vowel"
                           " --group Speaker --train-groups 8 --valid-groups 2 --test-groups 2";

}  // namespace

TEST_CASE("results schema: a file of every model kind matches docs/results-format.md") {
  TempDir dir("schema");
  moe::Corpus corpus;
  const char* lines[] = {"The cat sat on the mat.", "The dog sat on the log.", "A cat and a dog met."};
  for (int i = 0; i < 9; ++i)
    corpus.documents.push_back({"d" + std::to_string(i), std::string(lines[i % 3]) + " " + lines[(i + 1) % 3]});
  moe::write_corpus(dir / "corpus.txt", corpus);
  // Small sizes per kind; a registered kind missing here fails the test (document it, then add it).
  const std::map<std::string, std::string> runs{
      {"mixture", vowels + " --experts 3"},
      {"hme", vowels + " --depth 2 --branching 2"},
      {"mlp", vowels + " --hidden 4"},
      {"meta-pi", vowels + " --experts 2 --expert softmax"},
      {"deep", vowels + " --layer-experts 2 --expert-hidden 4 --gate-hidden 4"},
      {"sparse", vowels + " --experts 4 --d-model 6 --d-ff 6 --optimizer adam --batch-size 16"},
      {"lm", " --task lm --data " + (dir / "corpus.txt") + " --head mos --experts 2 --context 2 --embedding 4"
             " --hidden 6 --projection 3 --min-count 1 --valid-fraction 0.25 --test-fraction 0.25"},
  };
  for (const std::string& kind : moe::ModelRegistry::instance().names()) {
    CAPTURE(kind);
    REQUIRE_MESSAGE(runs.count(kind), "no schema run for --model " << kind);
    const std::string out = dir / (kind + ".h5");
    const CommandResult r = run_command(std::string(MOE_TRAIN_BIN) + runs.at(kind) +
                                        (kind == "lm" ? "" : " --model " + kind) + " --epochs 2 -q -o " + out);
    INFO(r.err);
    REQUIRE(r.status == 0);
    if (kind == "lm") check_file(out, {"common", "moe-train", "lm"}, false);
    else check_file(out, {"common", "moe-train", "tabular", kind}, false);
  }
  // Regression by EM with a Gaussian gate and a random split (no /split, no labels), and moe-eval files.
  const std::string reg = dir / "reg.h5";
  REQUIRE(run_command(std::string(MOE_TRAIN_BIN) + " --data " + std::string(MOE_FIXTURES) +
                      "/vowels_small.csv --features F1,F2 --target F3 --task regression --gate gaussian --trainer em"
                      " --test-fraction 0.3 --epochs 2 -q -o " + reg).status == 0);
  check_file(reg, {"common", "moe-train", "tabular", "mixture"}, false);
  const std::string eval = dir / "eval.h5", predict = dir / "predict.h5";
  REQUIRE(run_command(std::string(MOE_EVAL_BIN) + " --model " + (dir / "hme.h5") + " --data " + std::string(MOE_FIXTURES) +
                      "/vowels_small.csv -q -o " + eval).status == 0);
  check_file(eval, {"common", "moe-eval", "tabular", "hme"}, true);
  std::ofstream(dir / "unlabeled.csv") << "F1,F2\n300,2300\n700,1200\n";
  const CommandResult p = run_command(std::string(MOE_EVAL_BIN) + " --model " + (dir / "mixture.h5") + " --data " +
                                      (dir / "unlabeled.csv") + " --predict-only -q -o " + predict);
  INFO(p.err);
  REQUIRE(p.status == 0);
  check_file(predict, {"common", "moe-eval", "tabular", "mixture"}, true);
}

TEST_CASE("results schema: the page's blocks parse with their types and optional marks, and paths normalise") {
  const auto blocks = documented_blocks();
  REQUIRE(blocks.count("common"));
  REQUIRE(blocks.count("mlp"));
  CHECK(blocks.at("common").at("/@seed").type == "int64");
  CHECK(blocks.at("common").at("/eval/<part>@loss").optional);
  CHECK_FALSE(blocks.at("mlp").at("/model@hidden").optional);
  CHECK(normalise("/eval/test/tree/level2/prior_mean") == "/eval/<part>/tree/level<i>/prior_mean");
  CHECK(normalise("/model/params/layer1/expert12/b2") == "/model/params/layer<i>/expert<i>/b<i>");
  CHECK(normalise("/eval/data@n") == "/eval/<part>@n");
}
