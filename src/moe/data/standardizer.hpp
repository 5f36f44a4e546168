#pragma once
// Per-feature standardisation: fit on training data only, apply to every part.
#include <armadillo>

namespace moe {

struct Standardizer {
  arma::vec mean;   // d
  arma::vec scale;  // d, population standard deviation; 1 for a constant feature (no division by 0)

  // X: d x N with N >= 1 (observations as columns).
  void fit(const arma::mat& X);
  // (X - mean) / scale per row; X: d x N with the fitted d. Returns d x N.
  arma::mat apply(const arma::mat& X) const;
  // The inverse map, e.g. to report standardised regression predictions in original units.
  arma::mat invert(const arma::mat& Z) const;
};

}  // namespace moe
