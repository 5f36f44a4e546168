// build_dataset's row ids (the file's rows, through filters and subsets) and missing values (empty, NA,
// NaN): an error naming --missing, or with drop_missing the rows left out and counted.
#include <doctest/doctest.h>

#include "data/data_test_util.hpp"
#include "moe/data/csv.hpp"
#include "moe/data/read_table.hpp"
#include "moe/data/spec.hpp"
#include "moe/h5/hdf5.hpp"

using namespace moe;
using namespace moe::test;

namespace {

Table table() {
  Table t;
  t.source = "pb.csv";
  t.columns = {"Type", "Speaker", "Vowel", "F1", "F2", "F3"};
  t.rows = {{"m", "1", "iy", "240", "2280", "1"},   // 0
            {"w", "2", "aa", "NA", "1220", "2"},    // 1: F1 missing
            {"c", "3", "iy", "370", "", "3"},       // 2: F2 empty
            {"m", "1", "aa", "730", "1090", "NA"},  // 3: F3 is not read
            {"w", "", "iy", "300", "2000", "5"},    // 4: group missing
            {"c", "3", "NA", "400", "2100", "6"},   // 5: class missing
            {"m", "2", "uw", "nan", "900", "7"},    // 6: filtered out by Vowel=iy,aa,NA
            {"w", "2", "aa", "800", "-nan", "8"}};  // 7: NaN
  return t;
}

}  // namespace

TEST_CASE("build_dataset: row ids are the table rows kept, and subsets carry them") {
  Table t = table();
  t.rows[1][3] = "1", t.rows[2][4] = "1", t.rows[4][1] = "4", t.rows[5][2] = "aa", t.rows[7][4] = "1";
  DatasetSpec spec{{"F1", "F2"}, "Vowel", Task::classification, {"Vowel=iy,aa"}, "Speaker", {}};
  const Dataset ds = build_dataset(t, spec);
  CHECK(arma::approx_equal(ds.row_ids, arma::uvec{0, 1, 2, 3, 4, 5, 7}, "absdiff", 0));
  CHECK(ds.dropped_missing == 0);
  const Dataset part = ds.subset(arma::uvec{1, 6});
  CHECK(arma::approx_equal(part.row_ids, arma::uvec{1, 7}, "absdiff", 0));
  CHECK(part.X(0, 1) == 800.0);
}

TEST_CASE("build_dataset: a missing value in a column read is an error naming --missing, in no other column") {
  const Table t = table();
  DatasetSpec spec{{"F1", "F2"}, "Vowel", Task::classification, {"Vowel=iy,aa,NA"}, "Speaker", {}};
  std::string msg = error_of([&] { build_dataset(t, spec); });
  CHECK(msg == "pb.csv row 2, column 'F1': missing value 'NA' (--missing drop leaves out rows with missing values)");
  // Rows 0 and 3 alone: F3 holds NA but is not read.
  spec.filters = {"Speaker=1"};
  CHECK(build_dataset(t, spec).n() == 2);
  // A missing class and a missing group are missing values too.
  spec = {{"F1"}, "Vowel", Task::classification, {"Type=c"}, "", {}};
  CHECK(contains(error_of([&] { build_dataset(t, spec); }), "row 6, column 'Vowel': missing value 'NA'"));
  spec = {{"F1"}, "F2", Task::regression, {"Type=w"}, "Speaker", {}};
  CHECK(contains(error_of([&] { build_dataset(t, spec); }), "row 2, column 'F1': missing value"));
}

TEST_CASE("build_dataset: drop_missing leaves out and counts the rows kept by the filters that have a missing value") {
  const Table t = table();
  DatasetSpec spec{{"F1", "F2"}, "Vowel", Task::classification, {"Vowel=iy,aa"}, "Speaker", {}};
  spec.drop_missing = true;
  const Dataset ds = build_dataset(t, spec);
  // Kept by the filter: 0, 1, 2, 3, 4, 7 (5 has the class NA, 6 is uw); missing: 1 (F1), 2 (F2), 4 (group),
  // 7 (NaN). Row 6's nan is not counted: the filter left it out.
  CHECK(arma::approx_equal(ds.row_ids, arma::uvec{0, 3}, "absdiff", 0));
  CHECK(ds.dropped_missing == 4);
  CHECK(ds.X(0, 1) == 730.0);
  CHECK(ds.groups == std::vector<std::string>{"1", "1"});
  // Regression targets and several target columns.
  spec = {{"F1"}, "F2,F3", Task::regression, {}, "", {}};
  spec.drop_missing = true;
  const Dataset reg = build_dataset(t, spec);
  CHECK(arma::approx_equal(reg.row_ids, arma::uvec{0, 4, 5}, "absdiff", 0));
  CHECK(reg.dropped_missing == 5);
  // Nothing left: one line saying so.
  spec = {{"F1"}, "Vowel", Task::classification, {"Vowel=NA"}, "", {}};
  spec.drop_missing = true;
  const std::string msg = error_of([&] { build_dataset(t, spec); });
  CHECK(one_line(msg));
  CHECK(contains(msg, "all 1 rows kept by the filters have a missing value"));
}

TEST_CASE("build_dataset: without targets, no target column is read and Y is empty") {
  const Table t = table();
  DatasetSpec spec{{"F1"}, "", Task::classification, {"Speaker=1"}, "", {"aa", "iy"}};
  spec.targets = false;
  const Dataset ds = build_dataset(t, spec);
  CHECK(ds.n() == 2);
  CHECK(ds.Y.n_rows == 0);
  CHECK(ds.Y.n_cols == 2);
  CHECK(!ds.has_targets());
  CHECK(ds.target_names == std::vector<std::string>{"aa", "iy"});
}

TEST_CASE("build_dataset: HDF5 NaN cells and feature-matrix NaNs are missing values") {
  TempDir dir("missing-h5");
  const std::string path = dir / "d.h5";
  {
    h5::File f = h5::File::create(path);
    f.write("x", arma::vec{1.0, arma::datum::nan, 3.0, 4.0});
    f.write("y", arma::vec{1.0, 2.0, 3.0, arma::datum::nan});
    f.write("c", std::vector<std::string>{"a", "b", "a", "b"});
    f.commit();
  }
  const Table t = read_table(path, "/");
  DatasetSpec spec{{"x"}, "y", Task::regression, {}, "", {}};
  CHECK(contains(error_of([&] { build_dataset(t, spec); }), "row 2, column 'x': missing value"));
  spec.drop_missing = true;
  CHECK(arma::approx_equal(build_dataset(t, spec).row_ids, arma::uvec{0, 2}, "absdiff", 0));

  arma::mat matrix = {{1, 2, 3, 4}, {5, 6, arma::datum::nan, 8}};
  spec = {{"m[0]", "m[1]"}, "c", Task::classification, {}, "", {}};
  spec.feature_matrix = &matrix;
  CHECK(contains(error_of([&] { build_dataset(t, spec); }), "feature matrix has a missing value (NaN) for feature 'm[1]', row 3"));
  spec.drop_missing = true;
  const Dataset ds = build_dataset(t, spec);
  CHECK(arma::approx_equal(ds.row_ids, arma::uvec{0, 1, 3}, "absdiff", 0));
  CHECK(ds.X(1, 2) == 8.0);
}

TEST_CASE("read_csv_header and table_columns: the column names without the rows") {
  TempDir dir("header");
  const std::string csv = write_text(dir, "h.csv", "\xEF\xBB\xBF\n\"a,1\",b,\"c\nd\"\n1,2,3\n");
  CHECK(read_csv_header(csv) == std::vector<std::string>{"a,1", "b", "c\nd"});
  CHECK(table_columns(csv) == read_csv(csv).columns);
  CHECK(contains(error_of([&] { table_columns(dir / "none.csv"); }), "no such file"));
  CHECK(contains(error_of([&] { table_columns(write_text(dir, "e.csv", "")); }), "is empty"));
  const std::string h5 = dir / "t.h5";
  {
    h5::File f = h5::File::create(h5);
    f.write("g/b", arma::vec{1, 2});
    f.write("g/a", arma::vec{1, 2});
    f.write("g/m", arma::mat(2, 2, arma::fill::ones));
    f.commit();
  }
  CHECK(table_columns(h5, "/g") == std::vector<std::string>{"a", "b"});
}
