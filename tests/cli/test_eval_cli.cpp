// moe-eval without the flags the model already knows (the target column; a language model's tokenizer,
// context and split), --predict-only for data without targets, row ids that join every part back to the
// data file's rows, --missing error|drop, and moe-train's defaults for --task regression.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "cli/compare_results.hpp"
#include "cli/run_command.hpp"
#include "moe/data/csv.hpp"
#include "moe/h5/hdf5.hpp"
#include "moe/io/model_io.hpp"
#include "moe/text/corpus.hpp"

using namespace moe;
using moe::test::count_lines;
using moe::test::run_command;
using moe::test::TempDir;

namespace {

const std::string fixture = std::string(MOE_FIXTURES) + "/vowels_small.csv";

std::string train(const std::string& flags, const std::string& out) {
  return std::string(MOE_TRAIN_BIN) + flags + " --epochs 5 --seed 3 -q -o " + out;
}

std::string eval(const std::string& model, const std::string& data, const std::string& flags, const std::string& out) {
  return std::string(MOE_EVAL_BIN) + " --model " + model + " --data " + data + " " + flags + " -q -o " + out;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A copy of the model file as moe-train wrote it before /model/data: the model, and the root config
// attribute when `config` is not empty.
std::string without_data_record(const std::string& run, const std::string& path, const std::string& config) {
  const h5::File f = h5::File::open(run);
  SavedModel saved = read_model(f);
  h5::File old = h5::File::create(path);
  if (!config.empty()) old.set_attr("/", "config", config);
  write_model(old, *saved.model, saved.standardizer, saved.feature_names, saved.target_names);
  for (const char* part : {"train", "valid", "test"})
    if (f.exists(std::string("split/") + part + "_groups"))
      old.write(std::string("split/") + part + "_groups", f.read_strings(std::string("split/") + part + "_groups"));
  old.commit();
  return path;
}

// The fixture with one cell changed per (row, column, value); rows 0-based over the data rows.
std::string altered_fixture(const TempDir& dir, const std::string& name,
                            const std::vector<std::tuple<std::size_t, std::string, std::string>>& cells,
                            const std::string& drop_column = "") {
  Table t = read_csv(fixture);
  for (const auto& [row, column, value] : cells) t.rows.at(row).at(std::size_t(t.find(column))) = value;
  if (!drop_column.empty()) {
    const auto j = std::size_t(t.find(drop_column));
    t.columns.erase(t.columns.begin() + long(j));
    for (auto& row : t.rows) row.erase(row.begin() + long(j));
  }
  write_csv(dir / name, t);
  return dir / name;
}

arma::uvec sorted(const arma::uvec& v) { return arma::sort(v); }

std::string corpus_file(const TempDir& dir) {
  Corpus c;
  const char* lines[] = {"The cat sat on the mat.", "The dog sat on the log.", "A cat and a dog met.",
                         "The mat was red. The log was old.", "A dog ran. A cat sat."};
  for (int i = 0; i < 12; ++i)
    c.documents.push_back({"d" + std::to_string(i), std::string(lines[i % 5]) + " " + lines[(i + 2) % 5]});
  write_corpus(dir / "corpus.txt", c);
  return dir / "corpus.txt";
}

}  // namespace

TEST_CASE("cli eval: moe-eval reads the target column from the model, a --target that agrees is accepted, another "
          "is one line") {
  TempDir dir("evaltarget");
  const std::string run = dir / "run.h5", ev = dir / "ev.h5", ev2 = dir / "ev2.h5";
  auto r = run_command(train(" --data " + fixture + " --features F1,F2 --target Vowel --experts 2 --expert softmax"
                             " --test-fraction 0.25", run));
  INFO(r.err);
  REQUIRE(r.status == 0);
  const h5::File f = h5::File::open(run);
  CHECK(f.read_strings("model/data/target_columns") == std::vector<std::string>{"Vowel"});
  CHECK(f.read_uvec("model/data/split_seed")[0] == 3);  // no --split-seed: the run's --seed drew the split
  CHECK(f.attr_double("model/data", "test_fraction") == 0.25);
  CHECK(f.attr_string("model/data", "task") == "classification");

  r = run_command(eval(run, fixture, "--name all", ev));
  INFO(r.err);
  REQUIRE(r.status == 0);
  r = run_command(eval(run, fixture, "--name all --target Vowel", ev2));
  REQUIRE(r.status == 0);
  CHECK(moe::test::check_same_results(ev, ev2) > 0);
  const h5::File e = h5::File::open(ev);
  CHECK(e.attr_int("eval/all", "n") == 96);
  CHECK(e.read_uvec("eval/all/labels").n_elem == 96);

  std::filesystem::remove(ev2);
  r = run_command(eval(run, fixture, "--name all --target IPA", ev2));
  CHECK(r.status == 1);
  CHECK(r.err == "moe-eval: error: --target IPA does not match the model's target Vowel (leave --target out: the "
                 "model file records it)\n");
  CHECK(!std::filesystem::exists(ev2));

  // Regression: the target columns are the model's outputs.
  const std::string reg = dir / "reg.h5";
  r = run_command(train(" --data " + fixture + " --features F1,F2 --target F3,F0 --task regression --experts 2"
                        " --expert linear-gaussian", reg));
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(h5::File::open(reg).read_strings("model/data/target_columns") == std::vector<std::string>{"F3", "F0"});
  r = run_command(eval(reg, fixture, "", ev2));
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(h5::File::open(ev2).read_matrix("eval/data/targets").n_rows == 2);
  r = run_command(eval(reg, fixture, "--target F3", dir / "ev3.h5"));
  CHECK(r.status == 1);
  CHECK(has(r.err, "--target F3 does not match the model's target F3,F0"));

  // A file written before /model/data: the target column comes from its config text; with neither, from
  // --target, and its absence is one line saying so.
  const std::string old = without_data_record(run, dir / "old.h5", f.attr_string("/", "config"));
  r = run_command(eval(old, fixture, "--name all", dir / "ev4.h5"));
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(arma::approx_equal(h5::File::open(dir / "ev4.h5").read_matrix("eval/all/predictions"),
                           e.read_matrix("eval/all/predictions"), "absdiff", 0.0));
  const std::string bare = without_data_record(run, dir / "bare.h5", "");
  r = run_command(eval(bare, fixture, "", dir / "ev5.h5"));
  CHECK(r.status == 1);
  CHECK(has(r.err, "does not record its target column"));
  CHECK(count_lines(r.err) == 1);
  CHECK(run_command(eval(bare, fixture, "--target Vowel", dir / "ev5.h5")).status == 0);
}

TEST_CASE("cli eval: a language model's --part needs no split, tokenizer or context flags, and ones that disagree are "
          "one line") {
  TempDir dir("evallm");
  const std::string corpus = corpus_file(dir), run = dir / "run.h5";
  auto r = run_command(std::string(MOE_TRAIN_BIN) + " --task lm --data " + corpus + " --valid-fraction 0.25"
                       " --test-fraction 0.25 --max-documents 10 --min-count 1 --tokenizer char --context 2"
                       " --embedding 4 --hidden 6 --projection 3 --epochs 2 --seed 4 -q -o " + run);
  INFO(r.err);
  REQUIRE(r.status == 0);
  const h5::File f = h5::File::open(run);
  CHECK(f.attr_string("model/data", "tokenizer") == "char");
  CHECK(f.attr_int("model/data", "context") == 2);
  CHECK(f.attr_int("model/data", "max_documents") == 10);
  CHECK(f.read_uvec("model/data/split_seed")[0] == 4);
  CHECK(f.read_strings("model/data/target_columns").empty());

  // Row ids of a language model: the document (index in the corpus) of every token.
  for (const char* part : {"train", "valid", "test"}) {
    CAPTURE(part);
    const arma::uvec ids = f.read_uvec(std::string("eval/") + part + "/row_ids");
    CHECK(ids.n_elem == std::size_t(f.attr_int(std::string("eval/") + part, "n")));
    std::set<std::string> documents;
    for (arma::uword i : ids) documents.insert("d" + std::to_string(i));
    const auto names = f.read_strings(std::string("split/") + part + "_groups");
    CHECK(documents == std::set<std::string>(names.begin(), names.end()));
  }

  const std::string ev = dir / "ev.h5";
  r = run_command(eval(run, corpus, "--part test --name test", ev));
  INFO(r.err);
  REQUIRE(r.status == 0);
  const h5::File e = h5::File::open(ev);
  CHECK(e.attr_double("eval/test", "loss") == f.attr_double("eval/test", "loss"));
  CHECK(arma::approx_equal(e.read_uvec("eval/test/row_ids"), f.read_uvec("eval/test/row_ids"), "absdiff", 0));
  // The same values given are accepted.
  r = run_command(eval(run, corpus, "--part test --name test --split-seed 4 --valid-fraction 0.25 --test-fraction 0.25"
                                    " --max-documents 10 --tokenizer char --context 2", dir / "same.h5"));
  INFO(r.err);
  CHECK(r.status == 0);
  // Each disagreeing flag: one line naming it, nothing written.
  const std::vector<std::pair<std::string, std::string>> wrong{
      {"--split-seed 5", "--split-seed does not match the training run's 4"},
      {"--test-fraction 0.5", "--test-fraction does not match the training run's 0.25"},
      {"--max-documents 12", "--max-documents does not match the training run's 10"},
      {"--context 3", "--context 3 does not match the model's context 2"},
      {"--tokenizer word", "--tokenizer word does not match the model's tokenizer char"},
      {"--predict-only", "--predict-only does not apply to a language model"},
      {"--missing drop", "--missing does not apply to a language model"},
  };
  for (const auto& [flag, message] : wrong) {
    CAPTURE(flag);
    const std::string out = dir / "wrong.h5";
    r = run_command(eval(run, corpus, "--part test " + flag, out));
    CHECK(r.status == 1);
    CHECK(has(r.err, message));
    CHECK(count_lines(r.err) == 1);
    CHECK(!std::filesystem::exists(out));
  }
  // A file written before /model/data: the split from its config text.
  const std::string old = without_data_record(run, dir / "old.h5", f.attr_string("/", "config"));
  r = run_command(eval(old, corpus, "--part test --name test", dir / "old-ev.h5"));
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(h5::File::open(dir / "old-ev.h5").attr_double("eval/test", "loss") == f.attr_double("eval/test", "loss"));
}

TEST_CASE("cli eval: --predict-only writes predictions and gates for data without targets, and without it such data "
          "is one line naming the flag") {
  TempDir dir("evalpredict");
  const std::string run = dir / "run.h5";
  auto r = run_command(train(" --data " + fixture + " --features F1,F2 --target Vowel --experts 3 --expert softmax",
                             run));
  INFO(r.err);
  REQUIRE(r.status == 0);
  const std::string unlabeled = altered_fixture(dir, "unlabeled.csv", {}, "Vowel");
  const std::string out = dir / "pred.h5", labeled = dir / "labeled.h5";
  r = run_command(eval(run, unlabeled, "", out));
  CHECK(r.status == 1);
  CHECK(r.err == "moe-eval: error: " + unlabeled + " has no column 'Vowel' (the model's target); for data without "
                 "targets give --predict-only\n");
  CHECK(!std::filesystem::exists(out));

  r = run_command(std::string(MOE_EVAL_BIN) + " --model " + run + " --data " + unlabeled + " --predict-only -o " + out);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(has(r.out, "predictions only"));
  CHECK(!has(r.out, "loss"));
  CHECK(!has(r.out, "accuracy"));
  REQUIRE(run_command(eval(run, fixture, "", labeled)).status == 0);
  const h5::File p = h5::File::open(out), l = h5::File::open(labeled);
  for (const char* name : {"predictions", "gate", "assignment", "predicted_labels", "usage", "inputs", "row_ids"}) {
    CAPTURE(name);
    CHECK(arma::approx_equal(p.read_matrix(std::string("eval/data/") + name),
                             l.read_matrix(std::string("eval/data/") + name), "absdiff", 0.0));
  }
  for (const char* name : {"targets", "labels", "posterior", "posterior_assignment"}) {
    CAPTURE(name);
    CHECK(!p.exists(std::string("eval/data/") + name));
  }
  for (const char* name : {"loss", "mse", "accuracy"}) CHECK(!p.has_attr("eval/data", name));
  CHECK(p.attr_int("eval/data", "n") == 96);
  CHECK(p.attr_int("eval/data", "predict_only") == 1);

  // --predict-only reads no target: a --target with it is refused; data with targets is predicted all the same.
  r = run_command(eval(run, fixture, "--predict-only --target Vowel", dir / "x.h5"));
  CHECK(r.status == 1);
  CHECK(has(r.err, "--target does not apply with --predict-only"));
  r = run_command(eval(run, fixture, "--predict-only", dir / "y.h5"));
  REQUIRE(r.status == 0);
  CHECK(arma::approx_equal(h5::File::open(dir / "y.h5").read_matrix("eval/data/predictions"),
                           p.read_matrix("eval/data/predictions"), "absdiff", 0.0));
  // The help says which way it goes.
  r = run_command(std::string(MOE_EVAL_BIN) + " --help");
  CHECK(has(r.out, "--predict-only"));
  CHECK(has(r.out, "without it such data is an error"));
}

TEST_CASE("cli eval: row ids of a random split are a permutation of the rows kept, and join the parts' predictions "
          "to moe-eval's on the whole file") {
  TempDir dir("evalrowids");
  const std::string run = dir / "run.h5", all = dir / "all.h5";
  auto r = run_command(train(" --data " + fixture + " --features F1,F2 --target Vowel --filter Vowel=iy,ih,aa"
                             " --experts 2 --expert softmax --valid-fraction 0.2 --test-fraction 0.2", run));
  INFO(r.err);
  REQUIRE(r.status == 0);
  const Table t = read_csv(fixture);
  std::vector<arma::uword> kept;
  for (std::size_t i = 0; i < t.rows.size(); ++i)
    if (t.rows[i][std::size_t(t.find("Vowel"))] != "ah") kept.push_back(i);
  REQUIRE(kept.size() == 72);

  const h5::File f = h5::File::open(run);
  arma::uvec ids;
  for (const char* part : {"train", "valid", "test"}) {
    const arma::uvec p = f.read_uvec(std::string("eval/") + part + "/row_ids");
    CHECK(p.n_elem == std::size_t(f.attr_int(std::string("eval/") + part, "n")));
    ids = arma::join_cols(ids, p);
  }
  CHECK(f.read_uvec("eval/test/row_ids").n_elem == 14);
  CHECK(arma::approx_equal(sorted(ids), arma::uvec(kept), "absdiff", 0));  // each kept row once

  // moe-eval on every row of the file (no filter: its rows include the class the model never saw).
  r = run_command(eval(run, fixture, "--predict-only", all));
  INFO(r.err);
  REQUIRE(r.status == 0);
  const h5::File a = h5::File::open(all);
  CHECK(arma::approx_equal(a.read_uvec("eval/data/row_ids"), arma::regspace<arma::uvec>(0, 95), "absdiff", 0));
  const arma::mat whole = a.read_matrix("eval/data/predictions");
  for (const char* part : {"train", "valid", "test"}) {
    CAPTURE(part);
    const arma::uvec p = f.read_uvec(std::string("eval/") + part + "/row_ids");
    const arma::mat pred = f.read_matrix(std::string("eval/") + part + "/predictions");
    CHECK(arma::abs(pred - whole.cols(p)).max() < 1e-12);
  }
  // A group split too.
  r = run_command(train(" --data " + fixture + " --features F1,F2 --target Vowel --experts 2 --expert softmax"
                        " --group Speaker --train-groups 8 --test-groups 4", dir / "groups.h5"));
  REQUIRE(r.status == 0);
  const h5::File g = h5::File::open(dir / "groups.h5");
  const arma::uvec both = arma::join_cols(g.read_uvec("eval/train/row_ids"), g.read_uvec("eval/test/row_ids"));
  CHECK(arma::approx_equal(sorted(both), arma::regspace<arma::uvec>(0, 95), "absdiff", 0));
}

TEST_CASE("cli eval: --missing error names the flag, --missing drop leaves out the rows with an empty, NA or NaN "
          "cell in a column read, warns once with the count, and row ids keep the file's rows") {
  TempDir dir("evalmissing");
  // Rows 3 (F1 NA), 10 (F2 empty), 20 (F1 NaN), 30 (class NA), 40 (group empty) miss a value the run reads;
  // row 50's NA is in F3, which it does not read.
  const std::string data = altered_fixture(dir, "holes.csv", {{3, "F1", "NA"}, {10, "F2", ""}, {20, "F1", "NaN"},
                                                              {30, "Vowel", "NA"}, {40, "Speaker", ""}, {50, "F3", "NA"}});
  const std::string flags = " --data " + data + " --features F1,F2 --target Vowel --group Speaker --experts 2"
                            " --expert softmax --test-fraction 0.25";
  const std::string run = dir / "run.h5";
  auto r = run_command(train(flags, run));
  CHECK(r.status == 1);
  CHECK(r.err == "moe-train: error: holes.csv row 4, column 'F1': missing value 'NA' (--missing drop leaves out rows "
                 "with missing values)\n");
  CHECK(!std::filesystem::exists(run));

  r = run_command(train(flags + " --missing drop", run));
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.err == "moe-train: warning: left out 5 rows with a missing value (--missing drop)\n");
  std::vector<arma::uword> complete;
  for (arma::uword i = 0; i < 96; ++i)
    if (i != 3 && i != 10 && i != 20 && i != 30 && i != 40) complete.push_back(i);
  const h5::File f = h5::File::open(run);
  CHECK(f.attr_string("model/data", "missing") == "drop");
  const arma::uvec ids = arma::join_cols(f.read_uvec("eval/train/row_ids"), f.read_uvec("eval/test/row_ids"));
  CHECK(arma::approx_equal(sorted(ids), arma::uvec(complete), "absdiff", 0));

  const std::string ev = dir / "ev.h5";
  r = run_command(eval(run, data, "", ev));
  CHECK(r.status == 1);
  CHECK(has(r.err, "missing value 'NA' (--missing drop"));
  CHECK(!std::filesystem::exists(ev));
  // Without --group moe-eval does not read Speaker: row 40 stays.
  r = run_command(eval(run, data, "--missing drop", ev));
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.err == "moe-eval: warning: left out 4 rows with a missing value (--missing drop)\n");
  CHECK(h5::File::open(ev).read_uvec("eval/data/row_ids").n_elem == 92);
  r = run_command(eval(run, data, "--missing drop --group Speaker", ev));
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.err == "moe-eval: warning: left out 5 rows with a missing value (--missing drop)\n");
  CHECK(arma::approx_equal(h5::File::open(ev).read_uvec("eval/data/row_ids"), arma::uvec(complete), "absdiff", 0));
  // The rows moe-eval kept get the predictions moe-train gave them.
  const arma::mat whole = h5::File::open(ev).read_matrix("eval/data/predictions");
  const arma::uvec test = f.read_uvec("eval/test/row_ids");
  arma::uvec at(test.n_elem);
  for (arma::uword j = 0; j < test.n_elem; ++j)
    at[j] = arma::uword(std::find(complete.begin(), complete.end(), test[j]) - complete.begin());
  CHECK(arma::abs(f.read_matrix("eval/test/predictions") - whole.cols(at)).max() < 1e-12);

  r = run_command(train(flags + " --missing skip", dir / "x.h5"));
  CHECK(r.status == 2);
  CHECK(has(r.err, "--missing"));
  CHECK(count_lines(r.err) == 1);
}

TEST_CASE("cli train: --task regression defaults to linear-gaussian experts and a linear MLP output, recorded in "
          "/config so that it reruns the same") {
  TempDir dir("regressiondefaults");
  const std::string data = " --data " + fixture + " --features F1,F2 --target F3 --task regression";
  struct Case {
    std::string flags, expert, output;
  };
  const std::vector<Case> cases{
      {" --experts 2", "linear-gaussian", ""},
      {" --model hme --depth 1 --branching 2", "linear-gaussian", ""},
      {" --model mlp --hidden 3", "", "linear"},
      {" --model meta-pi --experts 2 --hidden 3", "mlp", "linear"},
      {" --experts 2 --expert gaussian", "gaussian", ""},  // one given stays
  };
  for (const Case& c : cases) {
    CAPTURE(c.flags);
    const std::string run = dir / "run.h5", again = dir / "again.h5", cfg = dir / "run.toml";
    auto r = run_command(train(data + c.flags, run));
    INFO(r.err);
    REQUIRE(r.status == 0);
    const h5::File f = h5::File::open(run);
    const std::string config = f.attr_string("/", "config");
    INFO(config);
    if (!c.expert.empty()) {
      CHECK(f.attr_string("model", "expert") == c.expert);
      CHECK(has(config, "expert=\"" + c.expert + "\""));
    }
    if (!c.output.empty()) {
      CHECK(f.attr_string("model", "output") == c.output);
      CHECK(has(config, "mlp-output=\"" + c.output + "\""));
    }
    std::ofstream(cfg) << config;
    r = run_command(std::string(MOE_TRAIN_BIN) + " --config " + cfg + " -o " + again);
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(moe::test::check_same_results(run, again) > 0);
  }
  // Classification keeps softmax experts.
  auto r = run_command(train(" --data " + fixture + " --features F1,F2 --target Vowel --experts 2", dir / "c.h5"));
  REQUIRE(r.status == 0);
  CHECK(h5::File::open(dir / "c.h5").attr_string("model", "expert") == "softmax");
}
