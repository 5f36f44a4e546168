// build_dataset: features, filters, one-hot targets, class order, regression targets, groups, errors.
#include <doctest/doctest.h>

#include "data/data_test_util.hpp"
#include "moe/data/csv.hpp"
#include "moe/data/spec.hpp"

using namespace moe;
using namespace moe::test;

namespace {

Table vowels() { return read_csv(std::string(MOE_FIXTURES) + "/vowels_small.csv"); }

Table small() {
  Table t;
  t.source = "pb.csv";
  t.columns = {"Type", "Speaker", "Vowel", "F1", "F2"};
  t.rows = {{"m", "1", "iy", "240", "2280"},
            {"w", "2", "aa", "850", "1220"},
            {"c", "3", "iy", "370", "3200"},
            {"m", "1", "aa", "730", "1090"}};
  return t;
}

}  // namespace

TEST_CASE("build_dataset: features as rows of X, observations as columns") {
  DatasetSpec spec{{"F1", "F2"}, "Vowel", Task::classification, {}, "", {}};
  Dataset ds = build_dataset(small(), spec);
  CHECK(ds.d() == 2);
  CHECK(ds.n() == 4);
  CHECK(ds.X(0, 1) == 850);
  CHECK(ds.X(1, 2) == 3200);
  CHECK(ds.feature_names == std::vector<std::string>{"F1", "F2"});
  CHECK(ds.groups.empty());
}

TEST_CASE("build_dataset: classification one-hot with sorted class order") {
  DatasetSpec spec{{"F1"}, "Type", Task::classification, {}, "", {}};
  Dataset ds = build_dataset(small(), spec);
  CHECK(ds.is_classification());
  CHECK(ds.target_names == std::vector<std::string>{"c", "m", "w"});
  CHECK(ds.m() == 3);
  CHECK(ds.labels[0] == 1);  // m
  CHECK(ds.labels[1] == 2);  // w
  CHECK(ds.labels[2] == 0);  // c
  CHECK(arma::accu(ds.Y) == 4);
  for (arma::uword i = 0; i < ds.n(); ++i) CHECK(ds.Y(ds.labels[i], i) == 1.0);
}

TEST_CASE("build_dataset: explicit class order, unlisted class is an error") {
  DatasetSpec spec{{"F1"}, "Type", Task::classification, {}, "", {"m", "w", "c"}};
  Dataset ds = build_dataset(small(), spec);
  CHECK(ds.target_names == std::vector<std::string>{"m", "w", "c"});
  CHECK(ds.labels[0] == 0);
  CHECK(ds.labels[2] == 2);

  spec.classes = {"m", "w"};
  std::string msg = error_of([&] { build_dataset(small(), spec); });
  CHECK(msg == "pb.csv row 3, column 'Type': class 'c' is not one of the listed classes (m, w)");

  // Listing a class that has no rows keeps it (m = 4 outputs).
  spec.classes = {"m", "w", "c", "x"};
  CHECK(build_dataset(small(), spec).m() == 4);
}

TEST_CASE("build_dataset: filters keep matching rows, several are AND'ed") {
  DatasetSpec spec{{"F1", "F2"}, "Vowel", Task::classification, {"Type=m,w"}, "Speaker", {}};
  Dataset ds = build_dataset(small(), spec);
  CHECK(ds.n() == 3);
  CHECK(ds.groups == std::vector<std::string>{"1", "2", "1"});
  CHECK(ds.group_name == "Speaker");

  spec.filters = {"Type=m,w", "Vowel=aa"};
  ds = build_dataset(small(), spec);
  CHECK(ds.n() == 2);
  CHECK(ds.X(0, 0) == 850);
  CHECK(ds.X(0, 1) == 730);
  CHECK(ds.target_names == std::vector<std::string>{"aa"});
}

TEST_CASE("build_dataset: regression with several target columns, joined group columns") {
  DatasetSpec spec{{"F1"}, "F2, F1", Task::regression, {}, "Type,Speaker", {}};
  Dataset ds = build_dataset(small(), spec);
  CHECK_FALSE(ds.is_classification());
  CHECK(ds.m() == 2);
  CHECK(ds.Y(0, 0) == 2280);
  CHECK(ds.Y(1, 0) == 240);
  CHECK(ds.target_names == std::vector<std::string>{"F2", "F1"});
  CHECK(ds.labels.empty());
  CHECK(ds.groups[1] == "w:2");
}

TEST_CASE("build_dataset: the vowels fixture, F1/F2 by vowel with speakers as groups") {
  DatasetSpec spec{{"F1", "F2"}, "Vowel", Task::classification, {}, "Speaker", {}};
  Dataset ds = build_dataset(vowels(), spec);
  CHECK(ds.n() == 96);
  CHECK(ds.target_names == std::vector<std::string>{"aa", "ah", "ih", "iy"});
  CHECK(arma::all(arma::sum(ds.Y, 1) == 24));
}

TEST_CASE("build_dataset errors: unknown column, non-number, NaN, Inf, empty after filter") {
  DatasetSpec spec{{"F1", "F9"}, "Type", Task::classification, {}, "", {}};
  std::string msg = error_of([&] { build_dataset(small(), spec); });
  CHECK(msg == "unknown column 'F9' in pb.csv (columns: Type, Speaker, Vowel, F1, F2)");

  spec = {{"F1"}, "Type", Task::classification, {"Sex=m"}, "", {}};
  CHECK(contains(error_of([&] { build_dataset(small(), spec); }), "unknown column 'Sex'"));
  spec = {{"F1"}, "Type", Task::classification, {}, "Talker", {}};
  CHECK(contains(error_of([&] { build_dataset(small(), spec); }), "unknown column 'Talker'"));
  spec = {{"F1"}, "Type", Task::classification, {"Type"}, "", {}};
  CHECK(contains(error_of([&] { build_dataset(small(), spec); }), "bad filter 'Type'"));

  Table t = small();
  t.rows[2][3] = "abc";
  spec = {{"F1"}, "Type", Task::classification, {}, "", {}};
  msg = error_of([&] { build_dataset(t, spec); });
  CHECK(msg == "pb.csv row 3, column 'F1': 'abc' is not a number");

  // Missing values (empty, NA, NaN) name --missing, which can drop them (tests/data/test_missing_values.cpp).
  for (std::string missing : {"", " ", "NA", "NaN", "nan"}) {
    t.rows[2][3] = missing;
    CHECK(error_of([&] { build_dataset(t, spec); }) ==
          "pb.csv row 3, column 'F1': missing value '" + missing + "' (--missing drop leaves out rows with missing values)");
  }

  for (std::string bad : {"inf", "-Inf", "1e999"}) {
    t.rows[2][3] = bad;
    msg = error_of([&] { build_dataset(t, spec); });
    CHECK(msg == "pb.csv row 3, column 'F1': '" + bad + "' is not finite");
  }

  t = small();
  t.rows[1][4] = "inf";
  spec = {{"F1"}, "F2", Task::regression, {}, "", {}};
  CHECK(error_of([&] { build_dataset(t, spec); }) == "pb.csv row 2, column 'F2': 'inf' is not finite");

  spec = {{"F1"}, "Type", Task::classification, {"Type=x"}, "", {}};
  msg = error_of([&] { build_dataset(small(), spec); });
  CHECK(one_line(msg));
  CHECK(contains(msg, "no rows left after filters Type=x"));

  spec = {{"F1"}, "Type,Vowel", Task::classification, {}, "", {}};
  CHECK(contains(error_of([&] { build_dataset(small(), spec); }), "one target column"));
}

TEST_CASE("build_dataset: numbers with spaces and a plus sign parse") {
  Table t = small();
  t.rows[0][3] = " +240.5 ";
  DatasetSpec spec{{"F1"}, "Type", Task::classification, {}, "", {}};
  CHECK(build_dataset(t, spec).X(0, 0) == 240.5);
}
