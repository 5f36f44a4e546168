#pragma once
// Numerically safe column-wise softmax and log-sum-exp (docs/architecture.md#principles).
#include <armadillo>
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

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

// log(x) for x > 0 finite (the softmaxes' column sums, which are >= 1): branch-free like exp_nonpositive,
// so a loop over a block of sums vectorises (libm's log is a call per element). x = 2^k m with m in
// [sqrt(1/2), sqrt(2)), f = m - 1, s = f / (2 + f), log(1 + f) = 2 atanh(s) = f - f^2/2 + s (f^2/2 + R),
// R = 2 sum_{j>=1} s^{2j} / (2j + 1) to j = 11 (|s| < 0.172: truncation below 1e-18). Within 2 ulp of
// std::log on normal numbers (tests/core/test_math.cpp); log(0) = -inf (a softmax column of -inf logits);
// NaN stays NaN; negatives, subnormals and +inf are outside the domain.
inline double log_positive(double x) {
  constexpr double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
  constexpr std::uint64_t mantissa_mask = (std::uint64_t(1) << 52) - 1, one_bits = std::uint64_t(1023) << 52;
  const std::uint64_t bits = std::bit_cast<std::uint64_t>(x);
  // The biased exponent (x > 0: no sign bit) as a double without an int64 -> double conversion, which
  // AVX2 lacks: 2^52 + e has e in its low mantissa bits.
  double k = std::bit_cast<double>((bits >> 52) | (std::uint64_t(0x433) << 52)) - (4503599627370496.0 + 1023.0);
  double m = std::bit_cast<double>((bits & mantissa_mask) | one_bits);  // [1, 2)
  const bool high = m > 1.4142135623730951;
  m = high ? 0.5 * m : m;
  k = high ? k + 1.0 : k;
  const double f = m - 1.0, s = f / (2.0 + f), z = s * s, hfsq = 0.5 * f * f;
  double r = 2.0 / 23.0;
  r = r * z + 2.0 / 21.0;
  r = r * z + 2.0 / 19.0;
  r = r * z + 2.0 / 17.0;
  r = r * z + 2.0 / 15.0;
  r = r * z + 2.0 / 13.0;
  r = r * z + 2.0 / 11.0;
  r = r * z + 2.0 / 9.0;
  r = r * z + 2.0 / 7.0;
  r = r * z + 2.0 / 5.0;
  r = r * z + 2.0 / 3.0;
  r *= z;
  const double result = k * ln2_hi - ((hfsq - (s * (hfsq + r) + k * ln2_lo)) - f);
  return x > 0.0 ? result : (x == 0.0 ? -std::numeric_limits<double>::infinity() : x);
}

// Column-wise softmax of Z (K x N) in one exp pass: prob and log_prob (K x N) and lse (1 x N); with
// with_log_prob = false, log_prob is left empty (one K x N write less).
// Columns are independent, so the OpenMP split over columns gives bit-identical results for any
// thread count. exp() dominates the cost of a mixture's epoch; this does it once per element.
struct ColumnSoftmax {
  arma::mat prob, log_prob;
  arma::rowvec lse;
};

inline ColumnSoftmax column_softmax(const arma::mat& Z, bool with_log_prob = true) {
  ColumnSoftmax out;
  const arma::uword k = Z.n_rows;
  constexpr arma::uword block = 256, few = 16;
  out.prob.set_size(Z.n_rows, Z.n_cols);
  if (with_log_prob || k > few) out.log_prob.set_size(Z.n_rows, Z.n_cols);
  out.lse.set_size(Z.n_cols);
  if (k == 0) return out;
  // Blocks of columns. With few rows (the mixtures' K experts) the block is transposed into K rows of B
  // contiguous values, so max, exp, sum and log all run as vectorised loops across columns; with many rows
  // (a vocabulary) each column is long enough on its own and the exp runs as one flat loop per block.
  const long blocks = long((Z.n_cols + block - 1) / block);
#pragma omp parallel for schedule(static) if (Z.n_elem >= 32768)
  for (long bi = 0; bi < blocks; ++bi) {
    const arma::uword c0 = arma::uword(bi) * block, c1 = std::min<arma::uword>(Z.n_cols, c0 + block), m = c1 - c0;
    double mx[block], sum[block], log_sum[block];
    if (k <= few) {
      double rows[few * block], ex[few * block];  // row i: Z(i, c0 .. c1-1), then shifted; its exp
      for (arma::uword j = 0; j < m; ++j) {
        const double* z = Z.colptr(c0 + j);
        for (arma::uword i = 0; i < k; ++i) rows[i * block + j] = z[i];
      }
      for (arma::uword j = 0; j < m; ++j) mx[j] = rows[j];
      for (arma::uword i = 1; i < k; ++i)
        for (arma::uword j = 0; j < m; ++j) mx[j] = std::max(mx[j], rows[i * block + j]);
      for (arma::uword j = 0; j < m; ++j) mx[j] = std::isfinite(mx[j]) ? mx[j] : 0.0;  // all -inf: lse = -inf
      for (arma::uword j = 0; j < m; ++j) sum[j] = 0.0;
      for (arma::uword i = 0; i < k; ++i) {
        double* r = rows + i * block;  // shifted logits, <= 0
        double* e = ex + i * block;
        for (arma::uword j = 0; j < m; ++j) {
          r[j] -= mx[j];
          e[j] = exp_nonpositive(r[j]);
          sum[j] += e[j];
        }
      }
      for (arma::uword j = 0; j < m; ++j) log_sum[j] = log_positive(sum[j]);
      for (arma::uword j = 0; j < m; ++j) sum[j] = 1.0 / sum[j];
      for (arma::uword i = 0; i < k; ++i) {
        double* r = rows + i * block;
        double* e = ex + i * block;
        for (arma::uword j = 0; j < m; ++j) {
          r[j] -= log_sum[j];
          e[j] *= sum[j];
        }
      }
      for (arma::uword j = 0; j < m; ++j) {
        double* pj = out.prob.colptr(c0 + j);
        for (arma::uword i = 0; i < k; ++i) pj[i] = ex[i * block + j];
        out.lse[c0 + j] = mx[j] + log_sum[j];
      }
      if (with_log_prob)
        for (arma::uword j = 0; j < m; ++j) {
          double* lp = out.log_prob.colptr(c0 + j);
          for (arma::uword i = 0; i < k; ++i) lp[i] = rows[i * block + j];
        }
      continue;
    }
    for (arma::uword j = c0; j < c1; ++j) {
      const double* z = Z.colptr(j);
      double mj = -arma::datum::inf;
      for (arma::uword i = 0; i < k; ++i) mj = std::max(mj, z[i]);
      mx[j - c0] = std::isfinite(mj) ? mj : 0.0;  // all -inf: lse = -inf below
      double* lp = out.log_prob.colptr(j);
      for (arma::uword i = 0; i < k; ++i) lp[i] = z[i] - mx[j - c0];  // shifted logits, <= 0
    }
    const double* shifted = out.log_prob.colptr(c0);
    double* p = out.prob.colptr(c0);
    const arma::uword count = m * k;
    for (arma::uword e = 0; e < count; ++e) p[e] = exp_nonpositive(shifted[e]);
    for (arma::uword j = c0; j < c1; ++j) {
      const double* pj = out.prob.colptr(j);
      double total = 0.0;
      for (arma::uword i = 0; i < k; ++i) total += pj[i];
      sum[j - c0] = total;
    }
    for (arma::uword j = 0; j < m; ++j) log_sum[j] = log_positive(sum[j]);  // vectorised
    for (arma::uword j = c0; j < c1; ++j) {
      double* pj = out.prob.colptr(j);
      double* lp = out.log_prob.colptr(j);
      const double inv = 1.0 / sum[j - c0];
      for (arma::uword i = 0; i < k; ++i) {
        pj[i] *= inv;
        lp[i] -= log_sum[j - c0];
      }
      out.lse[j] = mx[j - c0] + log_sum[j - c0];
    }
  }
  if (!with_log_prob) out.log_prob.reset();
  return out;
}

// 1 x N log sum_k exp(Z_k,n) of Z (K x N) without the probabilities: one pass with the vectorised exp and
// log, blocks of columns transposed into K rows as in column_softmax. An all -inf column gives -inf.
inline arma::rowvec column_lse(const arma::mat& Z) {
  const arma::uword k = Z.n_rows;
  constexpr arma::uword block = 256, few = 16;
  if (k > few || k == 0) return column_softmax(Z, false).lse;
  arma::rowvec lse(Z.n_cols);
  const long blocks = long((Z.n_cols + block - 1) / block);
#pragma omp parallel for schedule(static) if (Z.n_elem >= 32768)
  for (long bi = 0; bi < blocks; ++bi) {
    const arma::uword c0 = arma::uword(bi) * block, m = std::min<arma::uword>(Z.n_cols, c0 + block) - c0;
    double rows[few * block], mx[block], sum[block];
    for (arma::uword j = 0; j < m; ++j) {
      const double* z = Z.colptr(c0 + j);
      for (arma::uword i = 0; i < k; ++i) rows[i * block + j] = z[i];
    }
    for (arma::uword j = 0; j < m; ++j) mx[j] = rows[j];
    for (arma::uword i = 1; i < k; ++i)
      for (arma::uword j = 0; j < m; ++j) mx[j] = std::max(mx[j], rows[i * block + j]);
    for (arma::uword j = 0; j < m; ++j) mx[j] = std::isfinite(mx[j]) ? mx[j] : 0.0;
    for (arma::uword j = 0; j < m; ++j) sum[j] = 0.0;
    for (arma::uword i = 0; i < k; ++i)
      for (arma::uword j = 0; j < m; ++j) sum[j] += exp_nonpositive(rows[i * block + j] - mx[j]);
    double* out = lse.memptr() + c0;
    for (arma::uword j = 0; j < m; ++j) out[j] = mx[j] + log_positive(sum[j]);
  }
  return lse;
}

inline constexpr double log_2pi = 1.8378770664093454836;

}  // namespace moe
