#pragma once
// Jittered digits as data files for moe-train / moe-eval (`moe-data jitter`; docs/methods.md#deep-mixture-of-experts):
// an IDX image set is shuffled with a seed, split into a training and a test part, each image pasted at a
// random shift into a larger blank canvas (moe::jitter_images), and each part written as one HDF5 file
// that the HDF5 table reader takes with --feature-matrix pixels:
//   /pixels   (canvas*canvas) x n   one image per column, pixel (r, c) at row r*canvas + c, values in [0, 1]
//   /label    n   class index (0..9 for digits)
//   /shift_x  n   dx in pixels from the centred position (+ is right)
//   /shift_y  n   dy in pixels (+ is down)
//   /index    n   position of the image in the IDX files
//   /copy     n   which of the --train-copies placements of that image (0 in the test part)
//   root attributes: part (train | test), source_images, source_labels, seed, canvas, max_shift,
//                    digit_rows, digit_cols, copies, images (n)
#include <cstdint>
#include <string>

namespace moe {

struct JitterSetOptions {
  std::string images = "data/cache/mnist/images.idx";  // IDX images (N x rows x cols, unsigned bytes)
  std::string labels = "data/cache/mnist/labels.idx";  // IDX labels (N)
  std::string out_dir = "data/cache/mnist-jitter";     // receives train.h5 and test.h5
  std::size_t test = 2000;        // images of the test part; the other N - test are the training part
  std::size_t canvas = 36;        // the paper's 36x36 canvas
  int max_shift = 4;              // dx, dy uniform on -max_shift..max_shift
  std::uint64_t seed = 1;         // fixes the split and the shifts
  std::size_t train_copies = 1;   // each training image placed this many times at independent shifts
                                  // (augmentation); the test part has one placement per image
};

struct JitterSetResult {
  std::string train_path, test_path;
  std::size_t train = 0, test = 0;  // observations written (train: images x copies)
};

// Reads both IDX files, shuffles (Rng(seed).stream(1)), jitters every image in shuffled order
// (Rng(seed).stream(2)), writes the first `test` images to <out_dir>/test.h5 and the rest to
// <out_dir>/train.h5 (directory created; each file written atomically). Training copies c = 1, 2, ...
// follow copy 0 in the file, each a new placement of the same images from Rng(seed).stream(2 + c).
// One-line moe::Error for unreadable input, test = 0 or test >= N, train_copies outside 1..1000, or
// shifts that do not fit the canvas.
JitterSetResult write_jitter_set(const JitterSetOptions& options);

}  // namespace moe
