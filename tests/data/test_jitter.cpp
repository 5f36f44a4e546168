// Jittered images (Eigen et al. 2013): placement at a known offset, pixel mass, shift range, seeds.
#include <doctest/doctest.h>

#include <set>
#include <utility>

#include "data/data_test_util.hpp"
#include "moe/data/jitter.hpp"

using namespace moe;
using namespace moe::test;

namespace {

// n 28x28 "digits" whose pixels are all distinct and nonzero: image k, pixel (r, c) = (k + 1) * 1000 + r * 28 + c + 1.
arma::mat labelled_pixels(arma::uword n) {
  arma::mat m(784, n);
  for (arma::uword k = 0; k < n; ++k)
    for (arma::uword p = 0; p < 784; ++p) m(p, k) = static_cast<double>((k + 1) * 1000 + p + 1);
  return m;
}

}  // namespace

TEST_CASE("jitter: a digit placed at a known offset has its pixels exactly there") {
  const arma::mat digits = labelled_pixels(3);
  // dx = +3 (right), dy = -2 (up); the corners (-4, -4) and (+4, +4) of the paper's range.
  const arma::imat shifts = {{3, -4, 4}, {-2, -4, 4}};
  const arma::mat out = place_images(digits, 28, 28, 36, shifts);
  REQUIRE(out.n_rows == 36 * 36);
  REQUIRE(out.n_cols == 3);
  for (arma::uword k = 0; k < 3; ++k) {
    const long long top = 4 + shifts(1, k), left = 4 + shifts(0, k);
    std::size_t mismatches = 0, outside_nonzero = 0;
    for (long long y = 0; y < 36; ++y)
      for (long long x = 0; x < 36; ++x) {
        const double v = out(static_cast<arma::uword>(y * 36 + x), k);
        const long long r = y - top, c = x - left;
        if (r >= 0 && r < 28 && c >= 0 && c < 28)
          mismatches += v != digits(static_cast<arma::uword>(r * 28 + c), k);
        else
          outside_nonzero += v != 0.0;
      }
    CHECK(mismatches == 0);
    CHECK(outside_nonzero == 0);
  }
  // Spot checks in canvas coordinates: image 0's pixel (0, 0) at canvas row 2, column 7.
  CHECK(out(2 * 36 + 7, 0) == digits(0, 0));
  CHECK(out(2 * 36 + 6, 0) == 0.0);
  CHECK(out(0, 1) == digits(0, 1));              // (-4, -4): top-left corner of the canvas
  CHECK(out(36 * 36 - 1, 2) == digits(783, 2));  // (+4, +4): bottom-right corner
  // Zero shift centres the digit: 4 px of margin on every side.
  const arma::mat centred = place_images(digits.col(0), 28, 28, 36, arma::imat(2, 1, arma::fill::zeros));
  CHECK(centred(4 * 36 + 4, 0) == digits(0, 0));
  CHECK(centred(31 * 36 + 31, 0) == digits(783, 0));
}

TEST_CASE("jitter: pixel mass preserved, shifts within +-4, every position used, deterministic for a seed") {
  Rng data_rng(5);
  const arma::mat digits = data_rng.uniform_matrix(784, 2000, 0.0, 1.0);
  Rng rng(1);
  JitteredImages j = jitter_images(digits, 28, 28, rng);
  CHECK(j.canvas == 36);
  REQUIRE(j.images.n_rows == 1296);
  REQUIRE(j.images.n_cols == 2000);
  REQUIRE(j.shifts.n_rows == 2);
  REQUIRE(j.shifts.n_cols == 2000);
  CHECK(j.shifts.min() == -4);
  CHECK(j.shifts.max() == 4);
  // Copying moves pixels without arithmetic: the per-image sums agree exactly (same summation order).
  const arma::rowvec before = arma::sum(digits, 0), after = arma::sum(j.images, 0);
  CHECK(arma::approx_equal(before, after, "reldiff", 1e-12));
  CHECK(arma::accu(j.images != 0.0) == arma::accu(digits != 0.0));
  std::set<std::pair<long long, long long>> positions;
  for (arma::uword n = 0; n < j.shifts.n_cols; ++n) positions.insert({j.shifts(0, n), j.shifts(1, n)});
  CHECK(positions.size() == 81);  // 9 x 9 equally likely; all appear in 2000 draws (P(miss) ~ 1e-9)
  // Both axes are roughly uniform and centred.
  CHECK(arma::mean(arma::conv_to<arma::rowvec>::from(j.shifts.row(0))) == doctest::Approx(0.0).epsilon(0.3));
  CHECK(arma::mean(arma::conv_to<arma::rowvec>::from(j.shifts.row(1))) == doctest::Approx(0.0).epsilon(0.3));

  Rng same(1), other(2);
  JitteredImages j2 = jitter_images(digits, 28, 28, same);
  CHECK(arma::all(arma::vectorise(j2.shifts == j.shifts)));
  CHECK(arma::approx_equal(j2.images, j.images, "absdiff", 0.0));
  JitteredImages j3 = jitter_images(digits, 28, 28, other);
  CHECK_FALSE(arma::all(arma::vectorise(j3.shifts == j.shifts)));
  // The images are place_images at the recorded shifts.
  CHECK(arma::approx_equal(place_images(digits, 28, 28, 36, j.shifts), j.images, "absdiff", 0.0));
}

TEST_CASE("jitter: other canvas sizes and one-line errors") {
  const arma::mat digits = labelled_pixels(1);
  Rng rng(3);
  JitteredImages none = jitter_images(digits, 28, 28, rng, 28, 0);  // no room, no shift: unchanged
  CHECK(arma::approx_equal(none.images, digits, "absdiff", 0.0));
  CHECK(arma::all(arma::vectorise(none.shifts) == 0));

  const auto check_error = [](const std::function<void()>& f, const std::string& part) {
    const std::string msg = error_of(f);
    CHECK_MESSAGE(one_line(msg), msg);
    CHECK_MESSAGE(contains(msg, part), msg);
  };
  check_error([&] { place_images(digits, 28, 28, 36, arma::imat(arma::icolvec{5, 0})); },
              "jitter: shift (dx 5, dy 0) of image 0 puts it outside the 36x36 canvas");
  check_error([&] { place_images(digits, 28, 28, 36, arma::imat(arma::icolvec{0, -5})); }, "outside the 36x36 canvas");
  check_error([&] { place_images(digits, 28, 28, 36, arma::imat(2, 2, arma::fill::zeros)); },
              "shifts must be 2 x N with N = 1");
  check_error([&] { place_images(digits, 27, 28, 36, arma::imat(2, 1, arma::fill::zeros)); }, "need 756 rows");
  check_error([&] { place_images(digits, 28, 28, 20, arma::imat(2, 1, arma::fill::zeros)); }, "does not fit");
  check_error([&] { jitter_images(digits, 28, 28, rng, 36, 5); },
              "shifts up to +-5 px do not keep a 28x28 image inside a 36x36 canvas");
  check_error([&] { jitter_images(digits, 28, 28, rng, 36, -1); }, "must be >= 0");
}
