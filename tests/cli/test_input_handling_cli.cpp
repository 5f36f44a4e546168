// The command-line traps a new user meets, through the built programs: an N x d feature matrix
// (--matrix-layout rows), a flag given twice (the last wins), relative paths in a --config file (relative
// to that file), lists written with spaces, `moe-data info` on every file moe-data writes, --version on
// every program and subcommand, and the criterion line of moe-train's summary.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "cli/run_command.hpp"
#include "moe/data/idx.hpp"
#include "moe/h5/hdf5.hpp"
#include "moe/text/corpus.hpp"

using moe::test::CommandResult;
using moe::test::count_lines;
using moe::test::run_command;
using moe::test::slurp;
using moe::test::TempDir;

namespace {

const std::string train_bin = MOE_TRAIN_BIN, eval_bin = MOE_EVAL_BIN, data_bin = MOE_DATA_BIN,
                  bench_bin = MOE_BENCH_BIN;
const std::string fixture = std::string(MOE_FIXTURES) + "/vowels_small.csv";
const std::string vowels = " --features F1,F2 --target Vowel --experts 2 --quiet";

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string config_of(const std::string& results) { return moe::h5::File::open(results).attr_string("/", "config"); }

arma::mat matrix_of(const std::string& results, const std::string& object) {
  return moe::h5::File::open(results).read_matrix(object);
}

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// 40 observations of 3 features and a 2-class label, the features written d x N ("columns") or N x d
// ("rows", as numpy writes an array of shape (N, d)).
std::string layout_file(const TempDir& dir, const std::string& layout) {
  arma::mat x(3, 40);  // x(k, i): feature k of observation i
  arma::urowvec label(40);
  for (arma::uword i = 0; i < 40; ++i) {
    for (arma::uword k = 0; k < 3; ++k) x(k, i) = std::sin(double(i * (k + 1)) + double(k));
    label[i] = x(0, i) + 0.5 * x(1, i) > 0.0 ? 1 : 0;
  }
  const std::string path = dir / (layout + ".h5");
  auto f = moe::h5::File::create(path);
  f.write("pixels", layout == "rows" ? arma::mat(x.t()) : x);
  f.write("label", label);
  f.commit();
  return path;
}

}  // namespace

TEST_CASE("input handling: --matrix-layout rows trains and evaluates an N x d matrix as its d x N twin") {
  TempDir dir("layout-cli");
  const std::string columns = layout_file(dir, "columns"), rows = layout_file(dir, "rows");
  const std::string flags = " --feature-matrix pixels --target label --experts 2 --epochs 3 --seed 4 --quiet";
  CommandResult r = run_command(train_bin + " --data " + columns + flags + " -o " + (dir / "c.h5"));
  REQUIRE_MESSAGE(r.status == 0, r.err);
  r = run_command(train_bin + " --data " + rows + flags + " --matrix-layout rows -o " + (dir / "r.h5"));
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(has(config_of(dir / "r.h5"), "matrix-layout=\"rows\""));
  const arma::mat pc = matrix_of(dir / "c.h5", "eval/train/predictions"), pr = matrix_of(dir / "r.h5", "eval/train/predictions");
  REQUIRE(pc.n_cols == pr.n_cols);
  CHECK(arma::approx_equal(pc, pr, "absdiff", 0.0));

  // moe-eval of each model on its own file: the same predictions again.
  r = run_command(eval_bin + " --model " + (dir / "r.h5") + " --data " + rows + " --matrix-layout rows --target label "
                  "--quiet -o " + (dir / "er.h5"));
  REQUIRE_MESSAGE(r.status == 0, r.err);
  r = run_command(eval_bin + " --model " + (dir / "c.h5") + " --data " + columns + " --target label --quiet -o " +
                  (dir / "ec.h5"));
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(arma::approx_equal(matrix_of(dir / "er.h5", "eval/data/predictions"),
                           matrix_of(dir / "ec.h5", "eval/data/predictions"), "absdiff", 0.0));

  // The wrong layout is one line saying which to give, in both programs; nothing is written.
  r = run_command(eval_bin + " --model " + (dir / "r.h5") + " --data " + rows + " --target label -o " + (dir / "x.h5"));
  CHECK(r.status == 1);
  CHECK(count_lines(r.err) == 1);
  CHECK(has(r.err, "give --matrix-layout rows"));
  r = run_command(train_bin + " --data " + rows + flags + " -o " + (dir / "x.h5"));
  CHECK(r.status == 1);
  CHECK(has(r.err, "give --matrix-layout rows"));
  r = run_command(train_bin + " --data " + columns + flags + " --matrix-layout diagonal -o " + (dir / "x.h5"));
  CHECK(r.status == 2);
  CHECK(count_lines(r.err) == 1);
  CHECK_FALSE(std::filesystem::exists(dir / "x.h5"));
}

TEST_CASE("input handling: a flag given twice takes its last value in every program, lists still collect") {
  TempDir dir("repeat-cli");
  CommandResult r = run_command(train_bin + " --data " + fixture + vowels + " --epochs 3 --epochs 5 -o " + (dir / "a.h5"));
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(has(config_of(dir / "a.h5"), "\nepochs=5\n"));
  CHECK(matrix_of(dir / "a.h5", "history/loss").n_elem == 5);
  // --filter is repeatable: both hold (the classes left are those in both lists).
  r = run_command(train_bin + " --data " + fixture + vowels + " --epochs 2 --filter Vowel=iy,ih,aa --filter Vowel=iy,ih "
                  "-o " + (dir / "f.h5"));
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(moe::h5::File::open(dir / "f.h5").read_strings("model/target_names") == std::vector<std::string>{"ih", "iy"});
  CHECK(has(config_of(dir / "f.h5"), "filter=[\"Vowel=iy,ih,aa\", \"Vowel=iy,ih\"]"));

  r = run_command(eval_bin + " --model " + (dir / "a.h5") + " --data " + fixture + " --target Vowel --quiet --name x "
                  "--name y -o " + (dir / "e.h5"));
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(moe::h5::File::open(dir / "e.h5").exists("eval/y"));
  CHECK_FALSE(moe::h5::File::open(dir / "e.h5").exists("eval/x"));

  r = run_command(data_bin + " generate linear-mixture --n 10 --n 20 --out " + (dir / "g.csv"));
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(count_lines(slurp(dir / "g.csv")) == 21);

  r = run_command(bench_bin + " lm --head softmax --vocabulary 30 --projection 4 --batch 8 --hidden 8 --steps 9 "
                  "--steps 1 --threads 1");
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(has(r.out, "head softmax, V 30, d 4"));
}

TEST_CASE("input handling: relative paths in a --config file are relative to the file's directory") {
  TempDir dir("config-paths");
  const std::filesystem::path cfg = dir.path / "cfg";
  std::filesystem::create_directories(cfg);
  std::filesystem::copy_file(fixture, cfg / "data.csv");
  write((cfg / "train.toml").string(), "data = \"data.csv\"\nfeatures = [\"F1\", \"F2\"]\ntarget = \"Vowel\"\n"
                                        "epochs = 2\nexperts = 2\nquiet = true\noutput = \"out.h5\"\n");
  const std::string in_dir = "cd '" + dir.path.string() + "' && ";
  CommandResult r = run_command(in_dir + train_bin + " --config cfg/train.toml");
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(std::filesystem::exists(cfg / "out.h5"));
  CHECK_FALSE(std::filesystem::exists(dir.path / "out.h5"));
  CHECK(has(config_of((cfg / "out.h5").string()), "data=\"cfg/data.csv\""));
  // A path on the command line stays relative to the working directory.
  r = run_command(in_dir + train_bin + " --config cfg/train.toml -o here.h5");
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(std::filesystem::exists(dir.path / "here.h5"));
  // An absolute path in the file is used as it is.
  write((cfg / "abs.toml").string(), "data = \"" + fixture + "\"\nfeatures = \"F1,F2\"\ntarget = \"Vowel\"\nepochs = 2\n"
                                     "quiet = true\noutput = \"" + (dir / "abs.h5") + "\"\n");
  r = run_command(in_dir + train_bin + " --config cfg/abs.toml");
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(std::filesystem::exists(dir.path / "abs.h5"));

  write((cfg / "eval.toml").string(), "model = \"out.h5\"\ndata = \"data.csv\"\ntarget = \"Vowel\"\nquiet = true\n"
                                       "output = \"eval.h5\"\n");
  r = run_command(in_dir + eval_bin + " --config cfg/eval.toml");
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(std::filesystem::exists(cfg / "eval.h5"));

  write((cfg / "data.toml").string(), "[generate]\nn = 12\nout = \"gen.csv\"\n");
  r = run_command(in_dir + data_bin + " --config cfg/data.toml generate linear-mixture");
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(count_lines(slurp((cfg / "gen.csv").string())) == 13);

  for (const std::string& bin : {train_bin, eval_bin, data_bin})
    CHECK(has(run_command(bin + " --help").out, "relative paths in it are relative to the file's"));
}

TEST_CASE("input handling: comma-separated lists may have spaces after the commas") {
  TempDir dir("lists-cli");
  CommandResult r = run_command(train_bin + " --data " + fixture + " --features 'F1, F2' --target ' Vowel' --classes "
                                "'aa, ah, ih, iy' --filter 'Vowel = iy, ih, aa, ah' --group 'Speaker ' --epochs 2 "
                                "--quiet -o " + (dir / "c.h5"));
  REQUIRE_MESSAGE(r.status == 0, r.err);
  moe::h5::File c = moe::h5::File::open(dir / "c.h5");
  CHECK(c.read_strings("model/feature_names") == std::vector<std::string>{"F1", "F2"});
  CHECK(c.read_strings("model/target_names") == std::vector<std::string>{"aa", "ah", "ih", "iy"});
  // Several regression outputs, in moe-train and in moe-eval (which checks them against the model's).
  r = run_command(train_bin + " --data " + fixture + " --task regression --expert linear-gaussian --features F0,F3 "
                  "--target 'F1, F2' "
                  "--epochs 2 --quiet -o " + (dir / "r.h5"));
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(moe::h5::File::open(dir / "r.h5").read_strings("model/target_names") == std::vector<std::string>{"F1", "F2"});
  r = run_command(eval_bin + " --model " + (dir / "r.h5") + " --data " + fixture + " --target 'F1, F2' --quiet -o " +
                  (dir / "e.h5"));
  CHECK_MESSAGE(r.status == 0, r.err);
}

TEST_CASE("input handling: moe-data info describes every kind of file moe-data writes") {
  TempDir dir("info-cli");
  auto info = [&](const std::string& path) {
    const CommandResult r = run_command(data_bin + " info '" + path + "'");
    CHECK_MESSAGE(r.status == 0, path << ": " << r.err);
    return r.out;
  };
  // generate: a CSV table and a rank-language HDF5 file.
  REQUIRE(run_command(data_bin + " generate linear-mixture --n 50 --inputs 2 --out " + (dir / "mix.csv")).status == 0);
  std::string out = info(dir / "mix.csv");
  CHECK(has(out, "mix.csv: 50 rows, 4 columns"));
  CHECK(has(out, "  component"));
  REQUIRE(run_command(data_bin + " generate rank-language --contexts 4 --words 5 --rank 2 --out " + (dir / "lang.h5")).status == 0);
  out = info(dir / "lang.h5");
  CHECK(has(out, "language/  group"));
  CHECK(has(out, "attribute rank = 2"));
  CHECK(has(out, "log_prob  2-D 4 x 5"));

  // fetch of an image set: images.idx, labels.idx and <set>.meta in a directory (written here as the
  // fetch writes them); then jitter on them: train.h5 and test.h5.
  const std::filesystem::path set = dir.path / "mnist";
  std::filesystem::create_directories(set);
  arma::mat images(16, 6);
  for (arma::uword k = 0; k < images.n_elem; ++k) images[k] = double(k % 17) / 16.0;
  moe::write_idx_images((set / "images.idx").string(), images, 4, 4);
  moe::write_idx_labels((set / "labels.idx").string(), arma::urowvec{0, 1, 2, 0, 1, 2});
  write((set / "mnist.meta").string(), "name = mnist\nimages = 6\nrows = 4\ncols = 4\n");
  out = info((set / "images.idx").string());
  CHECK(has(out, "IDX array of unsigned byte (0x08), 6 x 4 x 4 (6 images of 4 x 4)"));
  out = info((set / "labels.idx").string());
  CHECK(has(out, "3 distinct: 0 (2) 1 (2) 2 (2)"));
  out = info((set / "mnist.meta").string());
  CHECK(has(out, "provenance record (moe-data fetch), 4 entries"));
  CHECK(has(out, "  images = 6\n"));
  out = info(set.string());
  CHECK(has(out, "mnist: directory, 3 files"));
  CHECK(has(out, "images.idx: IDX array"));
  CHECK(has(out, "mnist.meta: provenance record"));
  CommandResult r = run_command(data_bin + " jitter --images " + (set / "images.idx").string() + " --labels " +
                                (set / "labels.idx").string() + " --test 2 --canvas 6 --max-shift 1 --out " + (dir / "j"));
  REQUIRE_MESSAGE(r.status == 0, r.err);
  out = info(dir / "j/train.h5");
  CHECK(has(out, "attribute canvas = 6"));
  CHECK(has(out, "attribute part = train"));
  CHECK(has(out, "columns: 4 rows, 5 columns"));
  CHECK(has(out, "pixels  2-D 36 x 4, numeric 0 .. 1"));

  // fetch of a corpus (sotu, kjv): corpus.txt and <set>.meta.
  moe::Corpus corpus;
  corpus.documents = {{"Genesis", "in the beginning"}, {"Exodus", "now these are the names"}};
  moe::write_corpus(dir / "corpus.txt", corpus);
  out = info(dir / "corpus.txt");
  CHECK(has(out, "corpus, 2 documents, 8 words"));
  CHECK(has(out, "documents: Genesis, Exodus"));
}

TEST_CASE("input handling: --version on every program and subcommand prints the same line") {
  const CommandResult train = run_command(train_bin + " --version");
  REQUIRE(train.status == 0);
  CHECK(train.out.rfind("moekit ", 0) == 0);
  CHECK(count_lines(train.out) == 1);
  for (const std::string& command :
       {eval_bin + " --version", data_bin + " --version", data_bin + " info --version", data_bin + " fetch --version",
        data_bin + " generate --version", data_bin + " jitter --version", bench_bin + " --version",
        bench_bin + " lm --version", bench_bin + " sparse --version", bench_bin + " expert-parallel --version"}) {
    const CommandResult r = run_command(command);
    CAPTURE(command);
    CHECK(r.status == 0);
    CHECK(r.out == train.out);
    CHECK(r.err.empty());
  }
}

TEST_CASE("input handling: moe-train's summary speaks of a criterion only when one was set") {
  TempDir dir("criterion-cli");
  const std::string base = train_bin + " --data " + fixture + " --features F1,F2 --target Vowel --epochs 2 -o ";
  CommandResult r = run_command(base + (dir / "a.h5"));
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(has(r.out, "epochs 2, "));
  CHECK_FALSE(has(r.out, "criterion"));
  r = run_command(base + (dir / "b.h5") + " --criterion-metric loss --criterion 0");
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(has(r.out, "epochs 2, criterion not reached, "));
  r = run_command(base + (dir / "c.h5") + " --criterion-metric loss --criterion 1e9");
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(has(r.out, "epochs 1, criterion reached at epoch 1, "));
}
