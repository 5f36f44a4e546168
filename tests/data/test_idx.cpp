// IDX reader/writer: round trips (plain and gzip), every element type, every one-line error, and the
// real Fashion-MNIST files from Debian's dataset-fashion-mnist (skipped when not installed).
#include <doctest/doctest.h>
#include <zlib.h>

#include <filesystem>
#include <initializer_list>

#include "data/data_test_util.hpp"
#include "moe/data/idx.hpp"

using namespace moe;
using namespace moe::test;

namespace {

// Bytes given as small integers (0..255), for hand-made IDX files.
std::string bytes(std::initializer_list<int> values) {
  std::string s;
  for (int v : values) s.push_back(static_cast<char>(v));
  return s;
}

void write_gzip(const std::string& path, const std::string& content) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, content.data(), static_cast<unsigned>(content.size())) == static_cast<int>(content.size()));
  REQUIRE(gzclose(f) == Z_OK);
}

// Two 2x3 images with every pixel a distinct multiple of 1/255, and their labels.
arma::mat small_images() {
  arma::mat m(6, 2);
  for (arma::uword i = 0; i < m.n_elem; ++i) m[i] = static_cast<double>((i * 37) % 256) / 255.0;
  return m;
}

const std::string fashion = "/usr/share/datasets/fashion-mnist/";

}  // namespace

TEST_CASE("idx: images and labels round trip through write_idx_* and read_idx_set") {
  TempDir dir("idx");
  const arma::mat images = small_images();
  const arma::urowvec labels = {7, 255};
  write_idx_images(dir / "img.idx", images, 2, 3);
  write_idx_labels(dir / "lab.idx", labels);

  // The bytes on disk: magic 00 00 08 03, dims 2, 2, 3 big-endian, then pixel bytes.
  const std::string raw = slurp(dir / "img.idx");
  REQUIRE(raw.size() == 16 + 12);
  CHECK(raw.substr(0, 16) == bytes({0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3}));
  CHECK(static_cast<unsigned char>(raw[16 + 1]) == 37);  // pixel (0, 1) of image 0

  ImageSet s = read_idx_set(dir / "img.idx", dir / "lab.idx");
  CHECK(s.rows == 2);
  CHECK(s.cols == 3);
  CHECK(arma::approx_equal(s.images, images, "absdiff", 0.0));  // k/255 exactly
  CHECK(arma::all(s.labels == labels));

  IdxArray a = read_idx(dir / "lab.idx");
  CHECK(a.type == IdxType::u8);
  CHECK(a.dims == std::vector<std::uint32_t>{2});
  CHECK(a.values == std::vector<double>{7, 255});
}

TEST_CASE("idx: gzip-compressed files are read transparently") {
  TempDir dir("idx");
  write_idx_images(dir / "img.idx", small_images(), 2, 3);
  write_gzip(dir / "img.idx.gz", slurp(dir / "img.idx"));
  CHECK(slurp(dir / "img.idx.gz").substr(0, 2) == bytes({0x1f, 0x8b}));
  std::size_t rows = 0, cols = 0;
  arma::mat m = read_idx_images(dir / "img.idx.gz", &rows, &cols);
  CHECK(rows == 2);
  CHECK(cols == 3);
  CHECK(arma::approx_equal(m, small_images(), "absdiff", 0.0));
}

TEST_CASE("idx: every element type, big-endian") {
  TempDir dir("idx");
  // 0x09 signed byte, 2 values
  CHECK(read_idx(write_text(dir, "i8", bytes({0, 0, 0x09, 1, 0, 0, 0, 2, 0xff, 0x7f}))).values ==
        std::vector<double>{-1, 127});
  // 0x0B short: 0x0102 = 258, 0xfffe = -2
  CHECK(read_idx(write_text(dir, "i16", bytes({0, 0, 0x0B, 1, 0, 0, 0, 2, 1, 2, 0xff, 0xfe}))).values ==
        std::vector<double>{258, -2});
  // 0x0C int: 0x01000000 = 16777216, -1
  CHECK(read_idx(write_text(dir, "i32", bytes({0, 0, 0x0C, 1, 0, 0, 0, 2, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})))
            .values == std::vector<double>{16777216, -1});
  // 0x0D float 1.5 = 3f c0 00 00, 0x0E double -2.25 = c0 02 00 00 00 00 00 00; 2-D 1x1 each
  IdxArray f = read_idx(write_text(dir, "f32", bytes({0, 0, 0x0D, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0x3f, 0xc0, 0, 0})));
  CHECK(f.type == IdxType::f32);
  CHECK(f.dims == std::vector<std::uint32_t>{1, 1});
  CHECK(f.values == std::vector<double>{1.5});
  CHECK(read_idx(write_text(dir, "f64", bytes({0, 0, 0x0E, 1, 0, 0, 0, 1, 0xc0, 0x02, 0, 0, 0, 0, 0, 0}))).values ==
        std::vector<double>{-2.25});
  // Labels may be any integer type.
  CHECK(contains(error_of([&] { read_idx_labels(dir / "i16"); }), "label 1 is negative"));
  CHECK(arma::all(read_idx_labels(write_text(dir, "l16", bytes({0, 0, 0x0B, 1, 0, 0, 0, 1, 1, 2}))) ==
                  arma::urowvec{258}));
  // An empty set (N = 0) is valid.
  CHECK(read_idx_images(write_text(dir, "empty", bytes({0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28})))
            .n_cols == 0);
}

TEST_CASE("idx: every error is one line naming the file") {
  TempDir dir("idx");
  const auto check_error = [](const std::function<void()>& f, const std::string& part) {
    const std::string msg = error_of(f);
    CHECK_MESSAGE(one_line(msg), msg);
    CHECK_MESSAGE(contains(msg, part), msg);
  };
  const std::string missing = dir / "nope.idx";
  check_error([&] { read_idx(missing); }, "cannot open " + missing + ": no such file");
  check_error([&] { read_idx(dir.path.string()); }, "is a directory");

  // Bad magic: a text file, a nonzero first byte, an unknown type code, zero dimensions.
  const std::string text = write_text(dir, "text.idx", "hello, world\n");
  check_error([&] { read_idx(text); }, text + ": bad IDX magic 68 65 6c 6c");
  check_error([&] { read_idx(write_text(dir, "m1", bytes({1, 0, 8, 1, 0, 0, 0, 0}))); }, "bad IDX magic 01 00 08 01");
  check_error([&] { read_idx(write_text(dir, "m2", bytes({0, 0, 7, 1, 0, 0, 0, 0}))); }, "bad IDX magic 00 00 07 01");
  check_error([&] { read_idx(write_text(dir, "m3", bytes({0, 0, 8, 0}))); }, "bad IDX magic 00 00 08 00");

  // Truncated: empty file, header cut short, data shorter than the header says (plain and gzip).
  check_error([&] { read_idx(write_text(dir, "t0", "")); }, "truncated IDX file: 0 bytes");
  check_error([&] { read_idx(write_text(dir, "t1", bytes({0, 0, 8, 3, 0, 0, 0, 2, 0, 0}))); },
              "truncated IDX header: 3 dimensions need 16 bytes, the file has 10");
  const std::string cut = write_text(dir, "t2", bytes({0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4, 5}));
  check_error([&] { read_idx_images(cut); }, cut + ": truncated IDX data: the header says 2x2x2 elements of unsigned byte (0x08), the file has 5 data bytes");
  // A header whose sizes multiply past 2^64 is truncated too, not an overflow.
  check_error([&] { read_idx(write_text(dir, "t3", bytes({0, 0, 8, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 1}))); },
              "truncated IDX data");
  write_idx_images(dir / "full.idx", small_images(), 2, 3);
  const std::string full = slurp(dir / "full.idx");
  write_gzip(dir / "short.gz", full.substr(0, full.size() - 4));
  check_error([&] { read_idx(dir / "short.gz"); }, "truncated IDX data");
  // A gzip stream cut in the middle.
  write_gzip(dir / "whole.gz", full);
  const std::string gz = slurp(dir / "whole.gz");
  const std::string cut_gz = write_text(dir, "cut.gz", gz.substr(0, gz.size() - 10));
  check_error([&] { read_idx(cut_gz); }, cut_gz + ": truncated gzip data");
  // Bytes beyond what the header describes.
  check_error([&] { read_idx(write_text(dir, "long", full + "xy")); }, "2 bytes after the 2x2x3 elements");

  // Shapes: images need 3 dims of unsigned bytes, labels 1 dim of integers.
  write_idx_labels(dir / "lab.idx", {1, 2, 3});
  check_error([&] { read_idx_images(dir / "lab.idx"); }, "images need 3 dimensions (N x rows x cols), the file has 1 (3)");
  check_error([&] { read_idx_labels(dir / "full.idx"); }, "labels need 1 dimension (N), the file has 3 (2x2x3)");
  const std::string floats = write_text(dir, "f", bytes({0, 0, 0x0D, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0}));
  check_error([&] { read_idx_images(floats); }, "images must be unsigned bytes (0x08), the file holds float (0x0d)");
  check_error([&] { read_idx_labels(floats); }, "labels must be integers");

  // Dimension mismatch between images (2) and labels (3).
  check_error([&] { read_idx_set(dir / "full.idx", dir / "lab.idx"); },
              "dimension mismatch: " + (dir / "full.idx") + " has 2 images but " + (dir / "lab.idx") + " has 3 labels");

  // Writers refuse what they cannot store.
  check_error([&] { write_idx_labels(dir / "x", {256}); }, "label 256 > 255");
  check_error([&] { write_idx_images(dir / "x", arma::mat(6, 1, arma::fill::value(1.5)), 2, 3); }, "[0, 1]");
  check_error([&] { write_idx_images(dir / "x", small_images(), 3, 3); }, "need 9 rows");
  check_error([&] { write_idx_images(dir / "no/such/dir/x.idx", small_images(), 2, 3); }, "cannot write");
  CHECK_FALSE(std::filesystem::exists(dir / "x"));
}

TEST_CASE("idx: Fashion-MNIST test set from Debian's dataset-fashion-mnist (skipped when absent)") {
  const std::string images = fashion + "t10k-images-idx3-ubyte.gz", labels = fashion + "t10k-labels-idx1-ubyte.gz";
  if (!std::filesystem::exists(images) || !std::filesystem::exists(labels)) {
    MESSAGE("dataset-fashion-mnist not installed (apt-get install dataset-fashion-mnist): skipped");
    return;
  }
  ImageSet s = read_idx_set(images, labels);
  CHECK(s.rows == 28);
  CHECK(s.cols == 28);
  CHECK(s.images.n_rows == 784);
  CHECK(s.images.n_cols == 10000);
  CHECK(s.images.min() == 0.0);
  CHECK(s.images.max() == 1.0);
  CHECK(s.labels.max() == 9);
  const arma::umat counts = arma::hist(s.labels, arma::regspace<arma::uvec>(0, 9));
  CHECK(counts.n_elem == 10);
  CHECK(arma::all(arma::vectorise(counts) == 1000));
  CHECK(s.labels[0] == 9);  // the first test image is an ankle boot
  // Clothes fill more of the frame than digits: mean intensity about 0.29.
  CHECK(arma::mean(arma::vectorise(s.images)) == doctest::Approx(0.286).epsilon(0.02));

  // The training labels (small file): 60000, 6000 per class.
  const arma::urowvec train = read_idx_labels(fashion + "train-labels-idx1-ubyte.gz");
  CHECK(train.n_elem == 60000);
  const arma::umat train_counts = arma::hist(train, arma::regspace<arma::uvec>(0, 9));
  CHECK(arma::all(arma::vectorise(train_counts) == 6000));
}
