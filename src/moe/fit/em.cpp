#include "moe/fit/em.hpp"

#include <cmath>

#include "moe/core/error.hpp"

namespace moe {

void EmOptions::validate() const {
  require(gate_fit == "irls" || gate_fit == "least-squares",
          "unknown gate fit '" + gate_fit + "' (expected irls or least-squares)");
  require(irls.max_iterations >= 1, "--irls-iterations must be at least 1");
  require(irls.ridge >= 0.0 && std::isfinite(irls.ridge), "--irls-ridge must be a finite number >= 0");
}

arma::mat harden(const arma::mat& posteriors) {
  arma::mat H(arma::size(posteriors), arma::fill::zeros);
  const arma::urowvec best = arma::index_max(posteriors, 0);
  for (arma::uword j = 0; j < posteriors.n_cols; ++j) H(best[j], j) = 1.0;
  return H;
}

arma::rowvec viterbi_log_joint(const arma::mat& L, const arma::mat& posteriors, arma::mat& hard) {
  hard = harden(posteriors);
  return arma::sum(L % hard, 0);
}

}  // namespace moe
