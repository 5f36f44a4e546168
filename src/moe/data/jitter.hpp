#pragma once
// Jittered images (docs/methods.md#deep-mixture-of-experts, Eigen, Ranzato & Sutskever 2013): each 28x28 digit is pasted
// at a random position of a larger blank canvas (36x36, shifted up to +-4 px from the centre), so a
// model has to find "where" before "what". Images use idx.hpp's layout: one image per column, pixel
// (r, c) of a rows x cols image at row r*cols + c.
#include <armadillo>

#include "moe/core/rng.hpp"

namespace moe {

struct JitteredImages {
  arma::mat images;   // (canvas*canvas) x N
  arma::imat shifts;  // 2 x N: row 0 = dx (columns, + is right), row 1 = dy (rows, + is down), in pixels
                      // from the centred position, each in [-max_shift, max_shift]
  std::size_t canvas = 0;
};

// Pastes image n (rows x cols, column n of `images`) into a blank canvas x canvas image with its top-left
// corner at (base + dy, base + dx), base = (canvas - rows) / 2 for rows and (canvas - cols) / 2 for
// columns (the centred position, rounded down), (dx, dy) = shifts.col(n). A moe::Error when a shift would
// put the digit outside the canvas or the shapes disagree. Pixels are copied unchanged (mass preserved).
arma::mat place_images(const arma::mat& images, std::size_t rows, std::size_t cols, std::size_t canvas,
                       const arma::imat& shifts);

// Draws dx then dy for each image in order, each uniform on the integers -max_shift..max_shift (so
// (2 max_shift + 1)^2 equally likely positions), and places the images. The same seed gives the same
// result. Defaults: the paper's 36x36 canvas and +-4 px for 28x28 digits, which uses the whole canvas.
JitteredImages jitter_images(const arma::mat& images, std::size_t rows, std::size_t cols, Rng& rng,
                             std::size_t canvas = 36, int max_shift = 4);

}  // namespace moe
