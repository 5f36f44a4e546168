#pragma once
// Passes over the N observations in fixed blocks of columns, for the EM kernels (IRLS, weighted least
// squares). Each block writes its own partial sums, added in block order afterwards, so results do not
// depend on the thread count. Inside a block the work is laid out as rows of `block` contiguous values
// (one row per class, input or moment), so the loops vectorise.
#include <armadillo>
#include <algorithm>
#include <vector>

namespace moe::blocked {

inline constexpr arma::uword block = 256;

inline arma::uword block_count(arma::uword n) { return (n + block - 1) / block; }

// Runs body(block index, first column, end column, scratch) over the blocks, in parallel when worth it.
// `scratch` is per-thread memory of scratch_size doubles.
template <class Body>
void for_blocks(arma::uword n, std::size_t scratch_size, std::size_t work_per_column, Body body) {
  const long blocks = long(block_count(n));
  const bool parallel = blocks >= 2 && n * work_per_column >= 65536;
#pragma omp parallel if (parallel)
  {
    std::vector<double> scratch(scratch_size);
#pragma omp for schedule(static)
    for (long bi = 0; bi < blocks; ++bi) {
      const arma::uword c0 = arma::uword(bi) * block, c1 = std::min<arma::uword>(n, c0 + block);
      body(arma::uword(bi), c0, c1, scratch.data());
    }
  }
}

// Sum over the block partials (columns of `partials`, in block order).
inline arma::vec sum_blocks(const arma::mat& partials) {
  arma::vec total(partials.n_rows, arma::fill::zeros);
  for (arma::uword j = 0; j < partials.n_cols; ++j) total += partials.col(j);
  return total;
}

inline double dot(const double* a, const double* b, arma::uword n) {
  double s = 0.0;
#pragma omp simd reduction(+ : s)
  for (arma::uword i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

// out[i] = dot(a, b + i * stride) for i < count: four products share one loop, so their FMAs form four
// independent chains (one chain is latency-bound at a quarter of the FMA rate).
inline void dots(const double* a, const double* b, arma::uword stride, arma::uword count, arma::uword n, double* out) {
  arma::uword i = 0;
  for (; i + 4 <= count; i += 4) {
    const double *b0 = b + i * stride, *b1 = b0 + stride, *b2 = b1 + stride, *b3 = b2 + stride;
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
    for (arma::uword j = 0; j < n; ++j) {
      s0 += a[j] * b0[j];
      s1 += a[j] * b1[j];
      s2 += a[j] * b2[j];
      s3 += a[j] * b3[j];
    }
    out[i] = s0, out[i + 1] = s1, out[i + 2] = s2, out[i + 3] = s3;
  }
  for (; i + 2 <= count; i += 2) {
    const double *b0 = b + i * stride, *b1 = b0 + stride;
    double s0 = 0.0, s1 = 0.0;
#pragma omp simd reduction(+ : s0, s1)
    for (arma::uword j = 0; j < n; ++j) {
      s0 += a[j] * b0[j];
      s1 += a[j] * b1[j];
    }
    out[i] = s0, out[i + 1] = s1;
  }
  for (; i < count; ++i) out[i] = dot(a, b + i * stride, n);
}

}  // namespace moe::blocked
