#include "moe/data/standardizer.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "moe/core/error.hpp"

namespace moe {

void Standardizer::fit(const arma::mat& X) {
  require(X.n_cols > 0, "cannot fit a standardizer on 0 observations");
  mean = arma::mean(X, 1);
  scale = arma::stddev(X, 1, 1);  // norm_type 1: divide by N (population)
  constant.clear();
  for (arma::uword k = 0; k < scale.n_elem; ++k) {
    // The spread counts relative to the feature's own magnitude, so a feature measured at 1e-30 (or
    // 1e30) is standardised like any other. A constant feature, or one whose spread is rounding noise
    // (relative spread <= constant_spread) or below the normal range of doubles, is divided by
    // max(1, |mean|) instead: its standardised values are then 0 up to rounding (|z| <= constant_spread,
    // not the 1e14 that a constant 1e30 minus its rounded mean would give with a scale of 1), and a value
    // seen later away from the constant stays finite and of moderate size.
    if (!(scale[k] > constant_spread * std::abs(mean[k]) && scale[k] >= std::numeric_limits<double>::min())) {
      scale[k] = std::max(1.0, std::abs(mean[k]));
      constant.push_back(k);
      // An exactly constant feature maps to exactly 0 (the computed mean of N equal values may be off in
      // its last bit), so it leaves the model exactly as if the feature were 0.
      if (arma::all(X.row(k) == X(k, 0))) mean[k] = X(k, 0);
    }
  }
}

arma::mat Standardizer::apply(const arma::mat& X) const {
  require(X.n_rows == mean.n_elem, "standardizer was fitted on " + std::to_string(mean.n_elem) +
                                       " features, got " + std::to_string(X.n_rows));
  arma::mat Z = X.each_col() - mean;
  Z.each_col() /= scale;
  return Z;
}

arma::mat Standardizer::invert(const arma::mat& Z) const {
  require(Z.n_rows == mean.n_elem, "standardizer was fitted on " + std::to_string(mean.n_elem) +
                                       " features, got " + std::to_string(Z.n_rows));
  arma::mat X = Z.each_col() % scale;
  X.each_col() += mean;
  return X;
}

}  // namespace moe
