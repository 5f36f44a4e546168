#pragma once
// Numerically safe column-wise softmax and log-sum-exp (DESIGN.md principle 4).
#include <armadillo>

namespace moe {

// Z: K x N logits. Returns 1 x N log sum_k exp(Z_k,n), stable for any finite input.
inline arma::rowvec logsumexp_cols(const arma::mat& Z) {
  arma::rowvec mx = arma::max(Z, 0);
  mx.elem(arma::find_nonfinite(mx)).zeros();  // all -inf column: lse = -inf below
  arma::mat shifted = Z.each_row() - mx;
  return arma::log(arma::sum(arma::exp(shifted), 0)) + mx;
}

// K x N log-probabilities of a column-wise softmax.
inline arma::mat log_softmax_cols(const arma::mat& Z) { return Z.each_row() - logsumexp_cols(Z); }

// K x N probabilities of a column-wise softmax (each column sums to 1).
inline arma::mat softmax_cols(const arma::mat& Z) { return arma::exp(log_softmax_cols(Z)); }

inline constexpr double log_2pi = 1.8378770664093454836;

}  // namespace moe
