#include "moe/lm/rank.hpp"

#include <algorithm>
#include <limits>

#include "moe/core/error.hpp"

namespace moe {

arma::vec singular_values(const arma::mat& A) {
  arma::vec s;
  if (A.n_elem == 0) return s;
  require(A.is_finite(), "the log-probability matrix has NaN or Inf entries");
  require(arma::svd(s, A), "the SVD of the log-probability matrix did not converge");
  return s;
}

double rank_tolerance(const arma::vec& s, arma::uword rows, arma::uword cols, double relative) {
  if (s.empty()) return 0.0;
  const double top = s.max();
  if (relative > 0.0) return top * relative;
  return top * double(std::max(rows, cols)) * std::numeric_limits<double>::epsilon();
}

arma::uword empirical_rank(const arma::vec& s, double tolerance) { return arma::accu(s > tolerance); }

}  // namespace moe
