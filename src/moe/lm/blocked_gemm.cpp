#include "moe/lm/blocked_gemm.hpp"

#include <algorithm>
#include <vector>

namespace moe {

namespace {
long block_count(arma::uword n) { return long((n + gemm_block_columns - 1) / gemm_block_columns); }
arma::uword block_start(long b) { return arma::uword(b) * gemm_block_columns; }
arma::uword block_end(long b, arma::uword n) { return std::min(n, block_start(b) + gemm_block_columns); }
}  // namespace

arma::mat gemm_blocked(const arma::mat& A, const arma::mat& B) {
  arma::mat C(A.n_rows, B.n_cols);
  const long blocks = block_count(B.n_cols);
#pragma omp parallel for schedule(static) if (blocks > 1)
  for (long b = 0; b < blocks; ++b) {
    const arma::uword c0 = block_start(b), c1 = block_end(b, B.n_cols);
    C.cols(c0, c1 - 1) = A * B.cols(c0, c1 - 1);
  }
  return C;
}

arma::mat gemm_tn_blocked(const arma::mat& A, const arma::mat& B) {
  arma::mat C(A.n_cols, B.n_cols);
  const long blocks = block_count(B.n_cols);
#pragma omp parallel for schedule(static) if (blocks > 1)
  for (long b = 0; b < blocks; ++b) {
    const arma::uword c0 = block_start(b), c1 = block_end(b, B.n_cols);
    C.cols(c0, c1 - 1) = A.t() * B.cols(c0, c1 - 1);
  }
  return C;
}

void gemm_nt_accumulate(arma::mat& acc, const arma::mat& A, const arma::mat& B) {
  const long blocks = block_count(A.n_cols);
  if (blocks <= 1) {
    if (A.n_cols > 0) acc += A * B.t();
    return;
  }
  std::vector<arma::mat> partial(blocks);
#pragma omp parallel for schedule(static)
  for (long b = 0; b < blocks; ++b) {
    const arma::uword c0 = block_start(b), c1 = block_end(b, A.n_cols);
    partial[b] = A.cols(c0, c1 - 1) * B.cols(c0, c1 - 1).t();
  }
  for (long b = 0; b < blocks; ++b) acc += partial[b];
}

}  // namespace moe
