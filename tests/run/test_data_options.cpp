// DataOptions (src/moe/run/data_options.cpp): the --matrix-layout of an HDF5 feature matrix, and the
// filters written with spaces.
#include <doctest/doctest.h>

#include "data/data_test_util.hpp"
#include "moe/h5/hdf5.hpp"
#include "moe/run/data_options.hpp"

using namespace moe;
using namespace moe::test;

namespace {

// pixels as d x N (layout "columns") or N x d ("rows"), the same 3 features of 5 observations.
std::string write_layout_file(const TempDir& dir, const std::string& layout) {
  const std::string path = dir / (layout + ".h5");
  auto f = h5::File::create(path);
  arma::mat pixels(3, 5);  // pixels(k, i): feature k of observation i
  for (arma::uword k = 0; k < pixels.n_elem; ++k) pixels[k] = 0.5 * double(k);
  f.write("pixels", layout == "rows" ? arma::mat(pixels.t()) : pixels);
  f.write("label", arma::urowvec{0, 1, 2, 1, 0});
  f.commit();
  return path;
}

DataOptions matrix_options(const std::string& path, const std::string& layout) {
  DataOptions o;
  o.path = path;
  o.feature_matrix = "pixels";
  o.matrix_layout = layout;
  o.target = "label";
  return o;
}

}  // namespace

TEST_CASE("data options: --matrix-layout rows reads an N x d matrix as the d x N one") {
  TempDir dir("layout");
  const Dataset columns = load_dataset(matrix_options(write_layout_file(dir, "columns"), "columns"));
  const Dataset rows = load_dataset(matrix_options(write_layout_file(dir, "rows"), "rows"));
  REQUIRE(rows.d() == 3);
  REQUIRE(rows.n() == 5);
  CHECK(arma::approx_equal(rows.X, columns.X, "absdiff", 0.0));
  CHECK(rows.X(1, 2) == 0.5 * 7.0);  // feature 1 of observation 2: element 2 * 3 + 1 of the d x N matrix
  CHECK(rows.feature_names == columns.feature_names);
  CHECK(arma::approx_equal(rows.Y, columns.Y, "absdiff", 0.0));
}

TEST_CASE("data options: the wrong --matrix-layout is named in the error, and the layout is checked") {
  TempDir dir("layout");
  const std::string rows = write_layout_file(dir, "rows"), columns = write_layout_file(dir, "columns");
  const std::string e1 = error_of([&] { load_dataset(matrix_options(rows, "columns")); });
  CHECK(one_line(e1));
  CHECK(contains(e1, "5 x 3"));
  CHECK(contains(e1, "give --matrix-layout rows"));
  const std::string e2 = error_of([&] { load_dataset(matrix_options(columns, "rows")); });
  CHECK(contains(e2, "give --matrix-layout columns"));
  CHECK(contains(error_of([&] { load_dataset(matrix_options(columns, "transposed")); }), "columns or rows"));
  DataOptions no_matrix = matrix_options(columns, "rows");
  no_matrix.feature_matrix.clear();
  no_matrix.features = {"label"};
  CHECK(contains(error_of([&] { no_matrix.validate(); }), "--matrix-layout rows applies to a --feature-matrix"));
}

TEST_CASE("data options: a filter written with spaces around its column and values") {
  TempDir dir("layout");
  DataOptions o = matrix_options(write_layout_file(dir, "columns"), "columns");
  o.filters = {" label = 1, 2 "};
  const Dataset ds = load_dataset(o);
  CHECK(ds.n() == 3);
  CHECK(ds.target_names == std::vector<std::string>{"1", "2"});
}
