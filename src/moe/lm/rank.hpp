#pragma once
// Empirical rank of a log-probability matrix (contexts x words, or its transpose: the rank is the same)
// from its singular values. The tolerance is numpy.linalg.matrix_rank's: a singular value counts when it
// exceeds sigma_max * max(rows, cols) * machine epsilon, unless a relative tolerance is given.
#include <armadillo>

namespace moe {

arma::vec singular_values(const arma::mat& A);  // descending, min(rows, cols) values
// Default tolerance (relative <= 0): sigma_max * max(rows, cols) * eps; else sigma_max * relative.
double rank_tolerance(const arma::vec& s, arma::uword rows, arma::uword cols, double relative = 0.0);
arma::uword empirical_rank(const arma::vec& s, double tolerance);

}  // namespace moe
