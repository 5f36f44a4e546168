#include "moe/data/standardizer.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "moe/core/error.hpp"

namespace moe {

void Standardizer::fit(const arma::mat& X) {
  require(X.n_cols > 0, "cannot fit a standardizer on 0 observations");
  mean = arma::mean(X, 1);
  scale = arma::stddev(X, 1, 1);  // norm_type 1: divide by N (population)
  // A constant feature (or one whose spread is rounding noise) is left unscaled.
  for (arma::uword k = 0; k < scale.n_elem; ++k)
    if (!(scale[k] > 1e-12 * std::max(1.0, std::abs(mean[k])))) scale[k] = 1.0;
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
