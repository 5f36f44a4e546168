// describe_file (src/moe/data/file_info.cpp), what `moe-data info` prints: every kind of file moe-data
// writes, told apart by name and content.
#include <doctest/doctest.h>

#include <filesystem>

#include "data/data_test_util.hpp"
#include "moe/data/csv.hpp"
#include "moe/data/file_info.hpp"
#include "moe/data/idx.hpp"
#include "moe/h5/hdf5.hpp"
#include "moe/text/corpus.hpp"

using namespace moe;
using namespace moe::test;

TEST_CASE("file info: a CSV table, its columns' ranges and values") {
  TempDir dir("info");
  Table t;
  t.columns = {"x", "name"};
  t.rows = {{"1.5", "b"}, {"-2", "a"}, {"3", "b"}};
  write_csv(dir / "t.csv", t);
  const std::string d = describe_file(dir / "t.csv");
  CHECK(contains(d, "t.csv: 3 rows, 2 columns\n"));
  CHECK(contains(d, "  x     numeric  -2 .. 3  (3 distinct)\n"));
  CHECK(contains(d, "  name  text     2 distinct: a, b\n"));
}

TEST_CASE("file info: IDX images and labels, plain and gzipped") {
  TempDir dir("info");
  arma::mat images(4, 3, arma::fill::zeros);  // 3 images of 2 x 2
  images(0, 0) = 1.0;
  write_idx_images(dir / "images.idx", images, 2, 2);
  write_idx_labels(dir / "labels.idx", arma::urowvec{7, 1, 7});
  const std::string i = describe_file(dir / "images.idx");
  CHECK(contains(i, "IDX array of unsigned byte (0x08), 3 x 2 x 2 (3 images of 2 x 2)"));
  CHECK(contains(i, "values 0 .. 255"));
  const std::string l = describe_file(dir / "labels.idx");
  CHECK(contains(l, ", 3 (3 values, e.g. labels)"));
  CHECK(contains(l, "2 distinct: 1 (1) 7 (2)"));
  REQUIRE(std::system(("gzip -c '" + dir / "labels.idx" + "' > '" + dir / "labels-idx1-ubyte.gz" + "'").c_str()) == 0);
  CHECK(contains(describe_file(dir / "labels-idx1-ubyte.gz"), "2 distinct: 1 (1) 7 (2)"));
}

TEST_CASE("file info: a corpus, a provenance record and a directory of them") {
  TempDir dir("info");
  std::filesystem::create_directories(dir / "sotu");
  Corpus c;
  c.documents = {{"1790_washington", "fellow citizens of the senate"}, {"1791_washington", "in meeting you"}};
  write_corpus(dir / "sotu/corpus.txt", c);
  write_text(dir, "sotu/sotu.meta", "name = sotu\ndocuments = 2\n");
  const std::string corpus = describe_file(dir / "sotu/corpus.txt");
  CHECK(contains(corpus, "corpus, 2 documents, 8 words, 43 characters\n"));
  CHECK(contains(corpus, "documents: 1790_washington, 1791_washington\n"));
  const std::string meta = describe_file(dir / "sotu/sotu.meta");
  CHECK(contains(meta, "provenance record (moe-data fetch), 2 entries\n  name = sotu\n  documents = 2\n"));
  const std::string all = describe_file(dir / "sotu");
  CHECK(contains(all, "sotu: directory, 2 files\n"));
  CHECK(contains(all, corpus));
  CHECK(contains(all, meta));
  CHECK(contains(error_of([&] { describe_file(write_text(dir, "bad.meta", "name sotu\n")); }), "key = value"));
}

TEST_CASE("file info: HDF5 attributes, 1-D columns, matrices and groups") {
  TempDir dir("info");
  {
    auto f = h5::File::create(dir / "set.h5");
    f.write("pixels", arma::mat(4, 3, arma::fill::ones));
    f.write("label", arma::urowvec{0, 1, 1});
    f.write("language/log_prob", arma::mat(2, 5, arma::fill::value(-1.0)));
    f.set_attr("/", "part", "train");
    f.set_attr("/", "canvas", std::int64_t(36));
    f.set_attr("language", "rank", std::int64_t(2));
    f.commit();
  }
  const std::string d = describe_file(dir / "set.h5");
  CHECK(contains(d, "set.h5: HDF5\n"));
  CHECK(contains(d, "  attribute canvas = 36\n"));
  CHECK(contains(d, "  attribute part = train\n"));
  CHECK(contains(d, "  columns: 3 rows, 1 columns\n"));
  CHECK(contains(d, "    label  numeric  0 .. 1  (2 distinct)\n"));
  CHECK(contains(d, "  pixels  2-D 4 x 3, numeric 1 .. 1\n"));
  CHECK(contains(d, "  language/  group\n    attribute rank = 2\n    log_prob  2-D 2 x 5, numeric -1 .. -1\n"));
  CHECK(contains(describe_file(dir / "set.h5", "language"), "HDF5, group language\n"));
  CHECK(contains(error_of([&] { describe_file(dir / "set.h5", "nope"); }), "no group 'nope'"));
  CHECK(contains(error_of([&] { describe_file(dir / "missing.csv"); }), "no such file"));
}
