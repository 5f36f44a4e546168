// read_hdf5_table: 1-D datasets of a group as columns (numbers exact via %.17g, strings verbatim).
#include <doctest/doctest.h>

#include "data/data_test_util.hpp"
#include "moe/data/hdf5_table.hpp"
#include "moe/data/read_table.hpp"
#include "moe/data/spec.hpp"
#include "moe/h5/hdf5.hpp"

using namespace moe;
using namespace moe::test;

TEST_CASE("hdf5_table: round trip of numeric and string columns") {
  TempDir dir("h5t");
  const std::string path = dir / "vowels.h5";
  {
    auto f = h5::File::create(path);
    f.write("data/F1", arma::vec{240, 0.1, -1e-300});
    f.write("data/Speaker", arma::uvec{1, 2, 3});
    f.write("data/Vowel", std::vector<std::string>{"iy", "\\ic", "aa"});
    f.write("data/sub/ignored", arma::vec{1, 2});  // sub-groups are skipped
    f.write("other/x", arma::vec{9});
    f.commit();
  }
  Table t = read_hdf5_table(path, "/data");
  CHECK(t.columns == std::vector<std::string>{"F1", "Speaker", "Vowel"});
  REQUIRE(t.rows.size() == 3);
  CHECK(t.rows[1][2] == "\\ic");
  CHECK(t.rows[0][1] == "1");
  CHECK(contains(t.source, "vowels.h5"));

  Dataset ds = build_dataset(t, {{"F1"}, "Vowel", Task::classification, {}, "Speaker", {}});
  CHECK(ds.X(0, 1) == 0.1);       // exact through %.17g
  CHECK(ds.X(0, 2) == -1e-300);
  CHECK(ds.groups[2] == "3");

  CHECK(read_table(path, "data").rows.size() == 3);
  CHECK(read_table(path, "other").columns == std::vector<std::string>{"x"});
}

TEST_CASE("hdf5_table errors: unequal lengths, rank 2, no datasets") {
  TempDir dir("h5t");
  const std::string path = dir / "bad.h5";
  {
    auto f = h5::File::create(path);
    f.write("ragged/a", arma::vec{1, 2, 3});
    f.write("ragged/b", arma::vec{1, 2});
    f.write("matrix/a", arma::vec{1, 2});
    f.write("matrix/m", arma::mat(2, 2, arma::fill::zeros));
    f.create_group("empty");
    f.commit();
  }
  std::string msg = error_of([&] { read_hdf5_table(path, "ragged"); });
  CHECK(one_line(msg));
  CHECK(contains(msg, "column 'b' has 2 values"));
  msg = error_of([&] { read_hdf5_table(path, "matrix"); });
  CHECK(one_line(msg));
  CHECK(contains(msg, "'m' has rank 2"));
  msg = error_of([&] { read_hdf5_table(path, "empty"); });
  CHECK(contains(msg, "no 1-D datasets"));
  msg = error_of([&] { read_hdf5_table(path, "missing"); });
  CHECK(one_line(msg));
  CHECK(contains(msg, "missing"));
}
