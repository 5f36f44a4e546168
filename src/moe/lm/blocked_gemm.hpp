#pragma once
// The output layer's big matrix products, split over fixed blocks of columns that OpenMP threads take in
// parallel (BLAS itself runs single-threaded: src/moe/core/threads.hpp). Block boundaries depend on the
// sizes alone, never on the thread count, and partial sums are added in block order, so results are
// bit-identical for any number of threads (docs/architecture.md#principles).
#include <armadillo>

namespace moe {

inline constexpr arma::uword gemm_block_columns = 256;

// A (m x k) * B (k x n) -> m x n.
arma::mat gemm_blocked(const arma::mat& A, const arma::mat& B);
// A' (k x m, given A: m x k) * B (m x n) -> k x n.
arma::mat gemm_tn_blocked(const arma::mat& A, const arma::mat& B);
// acc (m x k) += A (m x n) * B' (B: k x n): the sum over the n columns, block partials added in order.
void gemm_nt_accumulate(arma::mat& acc, const arma::mat& A, const arma::mat& B);

}  // namespace moe
