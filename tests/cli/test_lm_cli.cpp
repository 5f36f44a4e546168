// moe-train / moe-eval --task lm end to end on a small inline corpus and on a synthetic language: the
// vocabulary is saved with the model, perplexity = exp(loss), moe-eval on the test part reproduces
// moe-train's test numbers, the rank spectrum is written; bad input is a one-line error.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "cli/run_command.hpp"
#include "data/data_test_util.hpp"
#include "moe/h5/hdf5.hpp"
#include "moe/text/corpus.hpp"

using namespace moe;
using namespace moe::test;

namespace {
std::string corpus_file(const TempDir& dir) {
  Corpus c;
  const char* lines[] = {"The cat sat on the mat.", "The dog sat on the log.", "A cat and a dog met.",
                         "The mat was red. The log was old.", "A dog ran. A cat sat."};
  for (int i = 0; i < 12; ++i) c.documents.push_back({"d" + std::to_string(i), std::string(lines[i % 5]) + " " + lines[(i + 2) % 5]});
  write_corpus(dir / "corpus.txt", c);
  return dir / "corpus.txt";
}
}  // namespace

TEST_CASE("cli lm: train MoS on a corpus, evaluate the test part, vocabulary in the model") {
  TempDir dir("lmcli");
  const std::string corpus = corpus_file(dir), run = dir / "run.h5", ev = dir / "ev.h5";
  const std::string common = " --task lm --data " + corpus + " --valid-fraction 0.25 --test-fraction 0.25 --min-count 1";
  auto r = run_command(std::string(MOE_TRAIN_BIN) + common + " --head mos --experts 3 --context 2 --embedding 4"
                       " --hidden 8 --projection 3 --optimizer adam --lr 0.02 --batch-size 16 --epochs 5 --seed 4"
                       " --quiet -o " + run);
  INFO(r.err);
  REQUIRE(r.status == 0);
  h5::File f = h5::File::open(run);
  CHECK(f.attr_string("model", "kind") == "lm");
  CHECK(f.attr_string("model", "head") == "mos");
  CHECK(f.attr_string("model", "tokenizer") == "word");
  const auto vocab = f.read_strings("model/target_names");
  CHECK(vocab.at(0) == "<unk>");
  CHECK(vocab.at(1) == "<eos>");
  CHECK(f.read_matrix("model/params/output/W").n_rows == vocab.size());
  CHECK(f.read_matrix("model/params/prior/W").n_rows == 3);
  const double loss = f.attr_double("eval/test", "loss");
  CHECK(f.attr_double("eval/test", "perplexity") == doctest::Approx(std::exp(loss)).epsilon(1e-12));
  CHECK(f.read_vector("history/train_metric").n_elem == 5);
  CHECK(f.attr_string("history", "criterion_metric") == "perplexity");
  CHECK(f.read_vector("eval/test/usage").n_elem == 3);
  CHECK(f.attr_int("eval/test/rank", "rank") >= 1);
  CHECK(f.read_strings("split/test_groups").size() == 3);
  // Every training word is in the vocabulary at --min-count 1; held-out documents may hold others.
  CHECK(f.attr_double("eval/train", "unk_rate") == 0.0);
  const double test_unk = f.attr_double("eval/test", "unk_rate");
  CHECK(test_unk >= 0.0);
  CHECK(test_unk < 1.0);

  r = run_command(std::string(MOE_EVAL_BIN) + " --model " + run + " --data " + corpus +
                  " --part test --valid-fraction 0.25 --test-fraction 0.25 --split-seed 4 --name test -q -o " + ev);
  INFO(r.err);
  REQUIRE(r.status == 0);
  h5::File e = h5::File::open(ev);
  CHECK(e.attr_double("eval/test", "loss") == doctest::Approx(loss).epsilon(1e-12));
  CHECK(e.attr_double("eval/test", "unk_rate") == test_unk);
  CHECK(e.attr_int("eval/test", "n") == f.attr_int("eval/test", "n"));

  // Other split flags select other documents: refused in one line, nothing written.
  const std::string ev2 = dir / "ev2.h5";
  r = run_command(std::string(MOE_EVAL_BIN) + " --model " + run + " --data " + corpus +
                  " --part test --valid-fraction 0.25 --test-fraction 0.25 --split-seed 5 --name test -q -o " + ev2);
  CHECK(r.status != 0);
  CHECK(r.err.find("--split-seed does not match the training run's 4") != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') <= 1);
  CHECK(!std::filesystem::exists(ev2));
}

TEST_CASE("cli lm: the synthetic language reports its entropy and the softmax rank bound") {
  TempDir dir("lmsyn");
  const std::string lang = dir / "lang.h5", run = dir / "run.h5";
  REQUIRE(run_command(std::string(MOE_DATA_BIN) + " generate rank-language --contexts 24 --words 20 --rank 12"
                      " --seed 2 --out " + lang).status == 0);
  auto r = run_command(std::string(MOE_TRAIN_BIN) + " --task lm --data " + lang + " --head softmax --projection 3"
                       " --embedding 6 --hidden 10 --optimizer adam --lr 0.02 --epochs 30 --quiet -o " + run);
  INFO(r.err);
  REQUIRE(r.status == 0);
  h5::File f = h5::File::open(run);
  CHECK(f.attr_int("eval/train", "target_rank") == 13);
  CHECK(f.attr_int("eval/train/rank", "rank") <= 4);
  CHECK(f.attr_double("eval/train", "loss") > f.attr_double("eval/train", "target_entropy"));
  CHECK(f.attr_string("model", "tokenizer") == "none");
}

TEST_CASE("cli lm: bad input is one line") {
  TempDir dir("lmbad");
  const std::string corpus = corpus_file(dir);
  const std::string bad = write_text(dir, "bad.txt", "no tab\n");
  auto r = run_command(std::string(MOE_TRAIN_BIN) + " --task lm --data " + bad + " -o " + (dir / "o.h5"));
  CHECK(r.status == 1);
  CHECK(r.err == "moe-train: error: " + bad + " line 1: expected '<id><TAB><text>' (not a moe-data corpus file?)\n");
  r = run_command(std::string(MOE_TRAIN_BIN) + " --task lm --data " + corpus + " --head softmoe -o " + (dir / "o.h5"));
  CHECK(r.status == 1);
  CHECK(r.err == "moe-train: error: unknown --head 'softmoe' (expected softmax, mos or moc)\n");
  r = run_command(std::string(MOE_TRAIN_BIN) + " --task lm --data " + corpus + " --head mos --moe-layer -o " + (dir / "o.h5"));
  CHECK(r.status == 1);
  CHECK(r.err == "moe-train: error: --moe-layer needs --head softmax (--experts then counts the layer's experts)\n");
  r = run_command(std::string(MOE_TRAIN_BIN) + " --task lm --data " + corpus + " --moe-layer --router soft -o " + (dir / "o.h5"));
  CHECK(r.status == 1);
  CHECK(r.err == "moe-train: error: --moe-layer: --router soft mixes the tokens of a batch, which would let a "
                 "language model see the words it predicts\n");
  r = run_command(std::string(MOE_TRAIN_BIN) + " --task lm --data " + corpus + " --moe-layer --d-model 16 -o " + (dir / "o.h5"));
  CHECK(r.status == 2);  // a usage error
  CHECK(r.err == "moe-train: error: --moe-layer works on the encoder's output: its width is --hidden, not --d-model\n");
  r = run_command(std::string(MOE_TRAIN_BIN) + " --task lm --data " + corpus + " --tokenizer bpe -o " + (dir / "o.h5"));
  CHECK(r.err == "moe-train: error: unknown tokenizer 'bpe' (expected word or char)\n");
  CHECK_FALSE(std::filesystem::exists(dir / "o.h5"));
}

TEST_CASE("cli lm: a broken synthetic-language file is one line naming what is wrong") {
  TempDir dir("lmlangbad");
  const std::string pristine = dir / "lang.h5", broken = dir / "broken.h5", out = dir / "o.h5";
  REQUIRE(run_command(std::string(MOE_DATA_BIN) + " generate rank-language --contexts 24 --words 20 --rank 12"
                      " --seed 2 --out " + pristine).status == 0);
  struct Breakage {
    std::string what, python, needle;  // python edits the h5py File `f`; L is /language/log_prob
  };
  const std::vector<Breakage> breakages = {
      {"no log_prob", "del f['language/log_prob']", "has no /language/log_prob"},
      {"log_prob of text", "del f['language/log_prob']; f['language/log_prob'] = numpy.array([b'a', b'b'])",
       "language/log_prob"},
      {"one word", "del f['language/log_prob']; f['language/log_prob'] = numpy.zeros((24, 1))", "needs at least 2 words"},
      {"a positive log-probability", "f['language/log_prob'][0, 0] = 0.5", "holds values above 0 or NaN"},
      {"a NaN", "f['language/log_prob'][3, 2] = numpy.nan", "holds values above 0 or NaN"},
      {"a row not summing to 1", "f['language/log_prob'][1, :] = -1.0", "does not sum to 1"},
      {"rank attribute of text", "f['language'].attrs['rank'] = 'twelve'", "rank"},
  };
  for (const Breakage& b : breakages) {
    CAPTURE(b.what);
    std::filesystem::copy_file(pristine, broken, std::filesystem::copy_options::overwrite_existing);
    REQUIRE(run_command("/usr/bin/python3 -c \"import h5py, numpy; f = h5py.File('" + broken + "', 'a'); " + b.python +
                        "; f.close()\"").status == 0);
    const auto r = run_command(std::string(MOE_TRAIN_BIN) + " --task lm --data " + broken + " --epochs 1 --quiet -o " + out);
    CAPTURE(r.err);
    CHECK(r.status == 1);
    CHECK(count_lines(r.err) == 1);
    CHECK(r.err.rfind("moe-train: error: ", 0) == 0);
    CHECK(r.err.find(b.needle) != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(out));
  }
}
