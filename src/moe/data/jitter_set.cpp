#include "moe/data/jitter_set.hpp"

#include <filesystem>

#include "moe/core/error.hpp"
#include "moe/core/output_path.hpp"
#include "moe/core/rng.hpp"
#include "moe/data/idx.hpp"
#include "moe/data/jitter.hpp"
#include "moe/h5/hdf5.hpp"

namespace moe {

namespace {

// One part: images (canvas^2 x n), shifts (2 x n), source index (n) and copy number (n) of each column.
void write_part(const std::string& path, const std::string& part, const JitterSetOptions& o, const ImageSet& set,
                const arma::mat& images, const arma::imat& shifts, const arma::uvec& index, const arma::uvec& copy) {
  const arma::uword n = images.n_cols;
  h5::File f = h5::File::create(path);
  f.write("pixels", images);
  f.write("label", arma::uvec(set.labels.elem(index)));
  f.write("shift_x", arma::conv_to<arma::rowvec>::from(shifts.row(0)));
  f.write("shift_y", arma::conv_to<arma::rowvec>::from(shifts.row(1)));
  f.write("index", index);
  f.write("copy", copy);
  f.set_attr("/", "part", part);
  f.set_attr("/", "source_images", o.images);
  f.set_attr("/", "source_labels", o.labels);
  f.set_attr("/", "seed", std::int64_t(o.seed));
  f.set_attr("/", "canvas", std::int64_t(o.canvas));
  f.set_attr("/", "max_shift", std::int64_t(o.max_shift));
  f.set_attr("/", "digit_rows", std::int64_t(set.rows));
  f.set_attr("/", "digit_cols", std::int64_t(set.cols));
  f.set_attr("/", "copies", std::int64_t(part == "train" ? o.train_copies : 1));
  f.set_attr("/", "images", std::int64_t(n));
  f.commit();
}

}  // namespace

JitterSetResult write_jitter_set(const JitterSetOptions& o) {
  std::error_code ec;
  const std::filesystem::file_status out = std::filesystem::status(o.out_dir, ec);
  require(!std::filesystem::exists(out) || std::filesystem::is_directory(out),
          "jitter: --out " + o.out_dir + " exists and is not a directory");
  for (const char* part : {"train.h5", "test.h5"}) {
    const std::string path = (std::filesystem::path(o.out_dir) / part).string();
    refuse_output_over_inputs({"--out", path}, {{"--images", o.images}, {"--labels", o.labels}});
  }
  const ImageSet set = read_idx_set(o.images, o.labels);
  const arma::uword n = set.images.n_cols;
  require(o.test >= 1 && o.test < n, "jitter: --test must be between 1 and " + std::to_string(n - 1) +
                                         " (the set has " + std::to_string(n) + " images), got " +
                                         std::to_string(o.test));
  require(o.train_copies >= 1 && o.train_copies <= 1000,
          "jitter: --train-copies must be between 1 and 1000, got " + std::to_string(o.train_copies));
  const Rng root(o.seed);
  Rng shuffle = root.stream(1), shifts = root.stream(2);
  const arma::uvec order = shuffle.permutation(n);
  const JitteredImages j =
      jitter_images(set.images.cols(order), set.rows, set.cols, shifts, o.canvas, o.max_shift);
  const arma::uword n_train = n - o.test;
  const arma::uvec test_cols = arma::regspace<arma::uvec>(0, o.test - 1);
  const arma::uvec train_cols = arma::regspace<arma::uvec>(o.test, n - 1);
  // The training part: copy 0 from the same draw as the test part, copy c >= 1 from stream 2 + c.
  arma::mat train_images(j.images.n_rows, n_train * o.train_copies);
  arma::imat train_shifts(2, n_train * o.train_copies);
  arma::uvec train_index(n_train * o.train_copies), train_copy(n_train * o.train_copies);
  const arma::uvec train_source = order.elem(train_cols);
  for (std::size_t c = 0; c < o.train_copies; ++c) {
    const arma::uword at = c * n_train;
    if (c == 0) {
      train_images.cols(at, at + n_train - 1) = j.images.cols(train_cols);
      train_shifts.cols(at, at + n_train - 1) = j.shifts.cols(train_cols);
    } else {
      Rng more = root.stream(2 + c);
      const JitteredImages k =
          jitter_images(set.images.cols(train_source), set.rows, set.cols, more, o.canvas, o.max_shift);
      train_images.cols(at, at + n_train - 1) = k.images;
      train_shifts.cols(at, at + n_train - 1) = k.shifts;
    }
    train_index.subvec(at, at + n_train - 1) = train_source;
    train_copy.subvec(at, at + n_train - 1).fill(c);
  }
  std::filesystem::create_directories(o.out_dir, ec);
  require(!ec, "jitter: cannot create --out " + o.out_dir + ": " + ec.message());
  JitterSetResult r;
  r.test_path = (std::filesystem::path(o.out_dir) / "test.h5").string();
  r.train_path = (std::filesystem::path(o.out_dir) / "train.h5").string();
  r.test = o.test;
  r.train = n_train * o.train_copies;
  write_part(r.test_path, "test", o, set, j.images.cols(test_cols), j.shifts.cols(test_cols),
             order.elem(test_cols), arma::uvec(o.test, arma::fill::zeros));
  write_part(r.train_path, "train", o, set, train_images, train_shifts, train_index, train_copy);
  return r;
}

}  // namespace moe
