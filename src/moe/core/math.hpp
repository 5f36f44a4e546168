#pragma once
// Numerically safe column-wise softmax and log-sum-exp (DESIGN.md principle 4).
#include <armadillo>
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

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

// exp(x) for the softmaxes, where x = z - max(z) <= 0: branch-free, so GCC vectorises the loops that call
// it (libm's exp is a call per element and was half of an EM iteration's time). exp(x) = 2^n exp(r) with
// n = round(x / ln 2), |r| <= ln(2)/2, exp(r) by its Taylor series to degree 13 (truncation < 1e-17),
// 2^n applied in two halves so results reach the subnormal range. Within 2 ulp of std::exp on
// [-746, 709] (tests/core/test_math.cpp); 0 below -746; NaN stays NaN.
inline double exp_nonpositive(double x) {
  constexpr double log2e = 1.4426950408889634074, ln2_hi = 6.93147180369123816490e-01,
                   ln2_lo = 1.90821492927058770002e-10, shifter = 6755399441055744.0;  // 1.5 * 2^52
  x = x < -746.0 ? -746.0 : x;  // NaN compares false and stays NaN
  x = x > 709.0 ? 709.0 : x;
  const double t = x * log2e + shifter;  // the low bits of t hold round(x / ln 2)
  const double n = t - shifter;
  const double r = (x - n * ln2_hi) - n * ln2_lo;
  double p = 1.0 / 6227020800.0;  // 1/13!
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // k = n as an integer, split k = k1 + k2 so that both 2^k1 and 2^k2 are normal numbers. Only integer
  // adds and left shifts: SSE2/AVX2 have no 64-bit arithmetic right shift, and one would stop vectorising.
  const std::int64_t k = std::bit_cast<std::int64_t>(t) - std::bit_cast<std::int64_t>(shifter);
  const std::int64_t k1 = std::bit_cast<std::int64_t>(n * 0.5 + shifter) - std::bit_cast<std::int64_t>(shifter);
  const std::int64_t k2 = k - k1;
  const double s1 = std::bit_cast<double>((k1 + 1023) << 52), s2 = std::bit_cast<double>((k2 + 1023) << 52);
  return p * s1 * s2;
}

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
  const arma::uword k = Z.n_rows;
  if (k == 0) return out;
  // Blocks of columns: the exp runs as one flat loop over a block's contiguous K x B values, which
  // GCC vectorises (a per-column loop over K = 2..8 values does not).
  constexpr arma::uword block = 256;
  const long blocks = long((Z.n_cols + block - 1) / block);
#pragma omp parallel for schedule(static) if (Z.n_elem >= 32768)
  for (long bi = 0; bi < blocks; ++bi) {
    const arma::uword c0 = arma::uword(bi) * block, c1 = std::min<arma::uword>(Z.n_cols, c0 + block);
    double mx[block];
    for (arma::uword j = c0; j < c1; ++j) {
      const double* z = Z.colptr(j);
      double m = -arma::datum::inf;
      for (arma::uword i = 0; i < k; ++i) m = std::max(m, z[i]);
      mx[j - c0] = std::isfinite(m) ? m : 0.0;  // all -inf: lse = -inf below
      double* lp = out.log_prob.colptr(j);
      for (arma::uword i = 0; i < k; ++i) lp[i] = z[i] - mx[j - c0];  // shifted logits, <= 0
    }
    const double* shifted = out.log_prob.colptr(c0);
    double* p = out.prob.colptr(c0);
    const arma::uword count = (c1 - c0) * k;
    for (arma::uword e = 0; e < count; ++e) p[e] = exp_nonpositive(shifted[e]);
    for (arma::uword j = c0; j < c1; ++j) {
      double* pj = out.prob.colptr(j);
      double* lp = out.log_prob.colptr(j);
      double sum = 0.0;
      for (arma::uword i = 0; i < k; ++i) sum += pj[i];
      const double log_sum = std::log(sum), inv = 1.0 / sum;
      for (arma::uword i = 0; i < k; ++i) {
        pj[i] *= inv;
        lp[i] -= log_sum;
      }
      out.lse[j] = mx[j - c0] + log_sum;
    }
  }
  return out;
}

inline constexpr double log_2pi = 1.8378770664093454836;

}  // namespace moe
