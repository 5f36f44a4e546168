#pragma once
// Numerically safe column-wise softmax and log-sum-exp (DESIGN.md principle 4).
#include <armadillo>
#include <cmath>

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

// Column-wise softmax of Z (K x N) in one exp pass: prob and log_prob (K x N) and lse (1 x N).
// Columns are independent, so the OpenMP split over columns gives bit-identical results for any
// thread count. exp() dominates the cost of a mixture's epoch; this does it once per element.
struct ColumnSoftmax {
  arma::mat prob, log_prob;
  arma::rowvec lse;
};

inline ColumnSoftmax column_softmax(const arma::mat& Z) {
  ColumnSoftmax out;
  out.prob.set_size(Z.n_rows, Z.n_cols);
  out.log_prob.set_size(Z.n_rows, Z.n_cols);
  out.lse.set_size(Z.n_cols);
  const long n = long(Z.n_cols);
  const arma::uword k = Z.n_rows;
#pragma omp parallel for schedule(static) if (n * long(k) >= 32768)
  for (long j = 0; j < n; ++j) {
    const double* z = Z.colptr(j);
    double* p = out.prob.colptr(j);
    double* lp = out.log_prob.colptr(j);
    double mx = -arma::datum::inf;
    for (arma::uword i = 0; i < k; ++i) mx = std::max(mx, z[i]);
    if (!std::isfinite(mx)) mx = 0.0;  // all -inf: lse = -inf below
    double sum = 0.0;
    for (arma::uword i = 0; i < k; ++i) sum += (p[i] = std::exp(z[i] - mx));
    const double log_sum = std::log(sum);
    for (arma::uword i = 0; i < k; ++i) {
      p[i] /= sum;
      lp[i] = z[i] - mx - log_sum;
    }
    out.lse[j] = mx + log_sum;
  }
  return out;
}

inline constexpr double log_2pi = 1.8378770664093454836;

}  // namespace moe
