// Jittered image sets as data files (`moe-data jitter`) and the HDF5 feature-matrix input
// (--feature-matrix) that reads them: values, filters, names, errors.
#include <doctest/doctest.h>

#include "data/data_test_util.hpp"
#include "moe/data/idx.hpp"
#include "moe/data/jitter.hpp"
#include "moe/data/jitter_set.hpp"
#include "moe/h5/hdf5.hpp"
#include "moe/run/data_options.hpp"

using namespace moe;
using namespace moe::test;

namespace {

// A table with a 3 x 5 feature matrix and two columns.
std::string write_matrix_file(const TempDir& dir) {
  const std::string path = dir / "m.h5";
  auto f = h5::File::create(path);
  arma::mat pixels(3, 5);
  for (arma::uword k = 0; k < pixels.n_elem; ++k) pixels[k] = 0.5 * double(k);
  f.write("data/pixels", pixels);
  f.write("data/label", arma::urowvec{0, 1, 2, 1, 0});
  f.write("data/shift_x", arma::rowvec{-1, 0, 1, 2, -2});
  f.commit();
  return path;
}

// n tiny 4x4 "digits" with distinct pixel values k/255 and labels n mod 3, as IDX files.
void write_tiny_idx(const TempDir& dir, arma::uword n) {
  arma::mat images(16, n);
  for (arma::uword k = 0; k < images.n_elem; ++k) images[k] = double((k * 7) % 255 + 1) / 255.0;
  arma::urowvec labels(n);
  for (arma::uword k = 0; k < n; ++k) labels[k] = k % 3;
  write_idx_images(dir / "images.idx", images, 4, 4);
  write_idx_labels(dir / "labels.idx", labels);
}

}  // namespace

TEST_CASE("feature matrix: the columns of a 2-D HDF5 dataset are the observations, filtered with the table") {
  TempDir dir("fm");
  const std::string path = write_matrix_file(dir);
  DataOptions o;
  o.path = path;
  o.hdf5_group = "data";
  o.feature_matrix = "pixels";
  o.target = "label";
  o.filters = {"label=1,2"};
  const Dataset ds = load_dataset(o);
  CHECK(ds.feature_names == std::vector<std::string>{"pixels[0]", "pixels[1]", "pixels[2]"});
  REQUIRE(ds.n() == 3);  // rows 1, 2, 3 have label 1 or 2
  REQUIRE(ds.d() == 3);
  for (arma::uword i = 0; i < 3; ++i)
    for (arma::uword k = 0; k < 3; ++k) CHECK(ds.X(k, i) == 0.5 * double(3 * (i + 1) + k));
  CHECK(ds.target_names == std::vector<std::string>{"1", "2"});
  CHECK(ds.labels[1] == 1);
  // Naming the matrix's features explicitly is allowed (moe-eval does), other names are not.
  o.features = feature_matrix_names("pixels", 3);
  CHECK(load_dataset(o).n() == 3);
  o.features = {"pixels[0]", "pixels[1]"};
  std::string msg = error_of([&] { load_dataset(o); });
  CHECK(one_line(msg));
  CHECK(contains(msg, "has 3 features"));
  o.features.clear();

  o.feature_matrix = "nope";
  msg = error_of([&] { load_dataset(o); });
  CHECK(one_line(msg));
  CHECK(contains(msg, "no dataset 'data/nope'"));
  o.feature_matrix = "shift_x";
  CHECK(contains(error_of([&] { load_dataset(o); }), "is not 2-D"));
  o.feature_matrix = "pixels";
  o.path = write_text(dir, "t.csv", "a,label\n1,0\n");
  CHECK(contains(error_of([&] { load_dataset(o); }), "needs an HDF5 data file"));
  DataOptions none;
  none.path = path;
  none.target = "label";
  CHECK(contains(error_of([&] { none.validate(); }), "--features or --feature-matrix"));
}

TEST_CASE("jitter set: train and test files hold the placed digits, their shifts, labels and source index") {
  TempDir dir("jset");
  write_tiny_idx(dir, 12);
  JitterSetOptions o;
  o.images = dir / "images.idx";
  o.labels = dir / "labels.idx";
  o.out_dir = dir / "out";
  o.test = 4;
  o.canvas = 8;
  o.max_shift = 2;
  o.seed = 5;
  o.train_copies = 2;
  const JitterSetResult r = write_jitter_set(o);
  CHECK(r.train == 16);  // 8 training images, each placed twice
  CHECK(r.test == 4);
  const ImageSet src = read_idx_set(o.images, o.labels);
  std::vector<arma::uword> seen;
  for (const auto& [path, n] : {std::pair{r.train_path, 16u}, std::pair{r.test_path, 4u}}) {
    h5::File f = h5::File::open(path);
    const arma::mat pixels = f.read_matrix("pixels");
    const arma::uvec index = f.read_uvec("index"), label = f.read_uvec("label");
    const arma::vec dx = f.read_vector("shift_x"), dy = f.read_vector("shift_y");
    const arma::uvec copy = f.read_uvec("copy");
    REQUIRE(pixels.n_rows == 64);
    REQUIRE(pixels.n_cols == n);
    CHECK(f.attr_int("/", "canvas") == 8);
    for (arma::uword k = 0; k < n; ++k) {
      CHECK(label[k] == src.labels[index[k]]);
      CHECK(std::abs(dx[k]) <= 2);
      CHECK(std::abs(dy[k]) <= 2);
      arma::imat shift(2, 1);
      shift(0, 0) = arma::sword(dx[k]);
      shift(1, 0) = arma::sword(dy[k]);
      const arma::mat placed = place_images(src.images.col(index[k]), 4, 4, 8, shift);
      CHECK(arma::approx_equal(pixels.col(k), placed, "absdiff", 0.0));
      if (copy[k] == 0) seen.push_back(index[k]);
      if (k >= 8) CHECK(copy[k] == 1);
      if (k >= 8) CHECK(index[k] == index[k - 8]);  // the copies follow the first placements
    }
    if (n == 16) CHECK(arma::any(dx.subvec(0, 7) != dx.subvec(8, 15)));  // new shifts for the copies
  }
  std::sort(seen.begin(), seen.end());  // every image exactly once over the two parts
  for (arma::uword k = 0; k < 12; ++k) CHECK(seen[k] == k);
  // Through moe-data: the same seed gives the same files; a test part as large as the set is refused.
  auto cmd = [&](const std::string& out, const std::string& test, const std::string& canvas) {
    return run_command(std::string(MOE_DATA_BIN) + " jitter --images " + o.images + " --labels " + o.labels +
                       " --test " + test + " --canvas " + canvas + " --max-shift 2 --seed 5 --train-copies 2 --out " +
                       out);
  };
  CommandResult c = cmd(dir / "cli", "4", "8");
  INFO(c.err);
  REQUIRE(c.status == 0);
  CHECK(contains(c.out, "(16 images)"));
  h5::File a = h5::File::open(dir / "cli/train.h5"), b = h5::File::open(r.train_path);
  CHECK(arma::approx_equal(a.read_matrix("pixels"), b.read_matrix("pixels"), "absdiff", 0.0));
  CHECK(arma::all(a.read_uvec("index") == b.read_uvec("index")));
  c = cmd(dir / "bad", "12", "8");
  CHECK(c.status == 1);
  CHECK(count_lines(c.err) == 1);
  CHECK(contains(c.err, "moe-data: error: jitter: --test must be between 1 and 11"));
  c = cmd(dir / "bad", "4", "5");
  CHECK(c.status == 1);
  CHECK(count_lines(c.err) == 1);
  CHECK(contains(c.err, "canvas"));
}
