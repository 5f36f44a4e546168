#pragma once
// Per-feature standardisation: fit on training data only, apply to every part.
#include <armadillo>
#include <vector>

namespace moe {

struct Standardizer {
  arma::vec mean;   // d
  arma::vec scale;  // d, population standard deviation; max(1, |mean|) for a constant feature (no
                    // division by 0)
  std::vector<arma::uword> constant;  // indices of the features fit() found constant (not saved)

  // A feature whose population standard deviation is at most this times |mean| is constant: its spread is
  // rounding noise (doubles carry about 16 digits; 1e-12 leaves room for the rounding of the mean itself).
  static constexpr double constant_spread = 1e-12;

  // X: d x N with N >= 1 (observations as columns).
  void fit(const arma::mat& X);
  // (X - mean) / scale per row; X: d x N with the fitted d. Returns d x N.
  arma::mat apply(const arma::mat& X) const;
  // The inverse map, e.g. to report standardised regression predictions in original units.
  arma::mat invert(const arma::mat& Z) const;
};

}  // namespace moe
