#include "moe/data/jitter.hpp"

#include <string>

#include "moe/core/error.hpp"

namespace moe {

arma::mat place_images(const arma::mat& images, std::size_t rows, std::size_t cols, std::size_t canvas,
                       const arma::imat& shifts) {
  require(rows * cols == images.n_rows,
          "jitter: " + std::to_string(rows) + "x" + std::to_string(cols) + " images need " +
              std::to_string(rows * cols) + " rows per column, got " + std::to_string(images.n_rows));
  require(rows <= canvas && cols <= canvas, "jitter: a " + std::to_string(rows) + "x" + std::to_string(cols) +
                                                " image does not fit a " + std::to_string(canvas) + "x" +
                                                std::to_string(canvas) + " canvas");
  require(shifts.n_rows == 2 && shifts.n_cols == images.n_cols,
          "jitter: shifts must be 2 x N with N = " + std::to_string(images.n_cols) + ", got " +
              std::to_string(shifts.n_rows) + " x " + std::to_string(shifts.n_cols));
  const long long base_r = static_cast<long long>((canvas - rows) / 2);
  const long long base_c = static_cast<long long>((canvas - cols) / 2);
  const long long max_r = static_cast<long long>(canvas - rows), max_c = static_cast<long long>(canvas - cols);
  arma::mat out(canvas * canvas, images.n_cols, arma::fill::zeros);
  for (arma::uword n = 0; n < images.n_cols; ++n) {
    const long long top = base_r + shifts(1, n), left = base_c + shifts(0, n);
    if (top < 0 || top > max_r || left < 0 || left > max_c)
      fail("jitter: shift (dx " + std::to_string(shifts(0, n)) + ", dy " + std::to_string(shifts(1, n)) +
           ") of image " + std::to_string(n) + " puts it outside the " + std::to_string(canvas) + "x" +
           std::to_string(canvas) + " canvas");
    const double* src = images.colptr(n);
    double* dst = out.colptr(n);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < cols; ++c)
        dst[(static_cast<std::size_t>(top) + r) * canvas + static_cast<std::size_t>(left) + c] = src[r * cols + c];
  }
  return out;
}

JitteredImages jitter_images(const arma::mat& images, std::size_t rows, std::size_t cols, Rng& rng,
                             std::size_t canvas, int max_shift) {
  require(max_shift >= 0, "jitter: the maximum shift must be >= 0, got " + std::to_string(max_shift));
  require(rows <= canvas && cols <= canvas &&
              static_cast<std::size_t>(max_shift) <= (canvas - rows) / 2 &&
              static_cast<std::size_t>(max_shift) <= (canvas - cols) / 2,
          "jitter: shifts up to +-" + std::to_string(max_shift) + " px do not keep a " + std::to_string(rows) +
              "x" + std::to_string(cols) + " image inside a " + std::to_string(canvas) + "x" +
              std::to_string(canvas) + " canvas");
  JitteredImages j;
  j.canvas = canvas;
  j.shifts.set_size(2, images.n_cols);
  const auto span = static_cast<std::uint64_t>(2 * max_shift + 1);
  for (arma::uword n = 0; n < images.n_cols; ++n) {
    j.shifts(0, n) = static_cast<arma::sword>(rng.below(span)) - max_shift;
    j.shifts(1, n) = static_cast<arma::sword>(rng.below(span)) - max_shift;
  }
  j.images = place_images(images, rows, cols, canvas, j.shifts);
  return j;
}

}  // namespace moe
