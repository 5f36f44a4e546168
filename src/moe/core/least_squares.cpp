#include "moe/core/least_squares.hpp"

#include "moe/core/blocked.hpp"

namespace moe {

using namespace blocked;

namespace {

// Copies the block's inputs transposed into rows of `block` values: xt (d+1 rows, the last all ones).
void transpose_block(const arma::mat& X, arma::uword c0, arma::uword m, double* xt) {
  const arma::uword d = X.n_rows;
  for (arma::uword j = 0; j < m; ++j) {
    const double* x = X.colptr(c0 + j);
    for (arma::uword a = 0; a < d; ++a) xt[a * block + j] = x[a];
  }
  std::fill_n(xt + d * block, m, 1.0);
}

}  // namespace

namespace {

// The normal equations' sums A = Xt diag(w) Xt' ((d+1) square) and B = Y diag(w) Xt' (m x (d+1)),
// Xt = [X; 1]; A's upper triangle and B accumulated as dot products over blocks of observations.
void normal_sums(const arma::mat& X, const arma::mat& Y, const arma::rowvec& w, arma::mat& A, arma::mat& B) {
  const arma::uword d = X.n_rows, p = d + 1, m_out = Y.n_rows, n = X.n_cols;
  const arma::uword upper = p * (p + 1) / 2, sums = upper + m_out * p;
  arma::mat partial(sums, block_count(n));
  for_blocks(n, (2 * p + m_out) * block, sums, [&](arma::uword bi, arma::uword c0, arma::uword c1, double* xt) {
    const arma::uword m = c1 - c0;
    double* wx = xt + p * block;
    double* y = wx + p * block;
    transpose_block(X, c0, m, xt);
    const double* wj = w.memptr() + c0;
    for (arma::uword a = 0; a < p; ++a)
      for (arma::uword j = 0; j < m; ++j) wx[a * block + j] = wj[j] * xt[a * block + j];
    for (arma::uword j = 0; j < m; ++j) {
      const double* yj = Y.colptr(c0 + j);
      for (arma::uword i = 0; i < m_out; ++i) y[i * block + j] = yj[i];
    }
    double* out = partial.colptr(bi);
    for (arma::uword a = 0; a < p; ++a) {  // A(a, a..p-1)
      dots(wx + a * block, xt + a * block, block, p - a, m, out);
      out += p - a;
    }
    for (arma::uword i = 0; i < m_out; ++i, out += p) dots(y + i * block, wx, block, p, m, out);
  });
  const arma::vec total = sum_blocks(partial);
  A.set_size(p, p);
  B.set_size(m_out, p);
  for (arma::uword a = 0, e = 0; a < p; ++a)
    for (arma::uword c = a; c < p; ++c, ++e) A(a, c) = A(c, a) = total[e];
  for (arma::uword i = 0; i < m_out; ++i)
    for (arma::uword a = 0; a < p; ++a) B(i, a) = total[upper + i * p + a];
}

}  // namespace

void weighted_least_squares(const arma::mat& X, const arma::mat& Y, const arma::rowvec& w, arma::mat& W,
                            arma::mat& b) {
  const arma::uword d = X.n_rows;
  arma::mat A, B;
  normal_sums(X, Y, w, A, B);
  arma::mat coef;  // (d+1) x m
  if (!arma::solve(coef, A, B.t(), arma::solve_opts::likely_sympd + arma::solve_opts::no_approx)) {
    // pinv's bool form: the throwing one would throw inside the mixtures' OpenMP loops (a crash) when the
    // sums are not finite (inputs that overflow when squared); W and b then keep their values.
    arma::mat inverse;
    if (!arma::pinv(inverse, A)) return;
    coef = inverse * B.t();
  }
  W = coef.rows(0, d - 1).t();
  b = coef.row(d).t();
}

void penalised_least_squares(const arma::mat& X, const arma::mat& Y, const arma::rowvec& w, double l2,
                             const arma::mat& S, arma::mat& W, arma::mat& b) {
  if (l2 <= 0.0) return weighted_least_squares(X, Y, w, W, b);
  const arma::uword d = X.n_rows, p = d + 1, m = Y.n_rows;
  arma::mat A, B;
  normal_sums(X, Y, w, A, B);
  // Stationary point: coef A + l2 S coef P = B for coef = [W b] (m x p), P = diag(1, .., 1, 0). In
  // column-major vec form: (A kron I_m + l2 P kron S) vec(coef) = vec(B). The matrix is symmetric positive
  // definite when S is (l2 P kron S covers every weight; A covers the bias once any point has weight).
  arma::mat P(p, p, arma::fill::eye);
  P(d, d) = 0.0;
  const arma::mat M = arma::kron(A, arma::eye(m, m)) + l2 * arma::kron(P, S);
  arma::vec theta;
  if (!arma::solve(theta, M, arma::vectorise(B), arma::solve_opts::likely_sympd + arma::solve_opts::no_approx)) {
    arma::mat inverse;  // bool form: no throw inside the mixtures' OpenMP loops (see weighted_least_squares)
    if (!arma::pinv(inverse, M)) return;
    theta = inverse * arma::vectorise(B);
  }
  const arma::mat coef = arma::reshape(theta, m, p);
  W = coef.cols(0, d - 1);
  b = coef.col(d);
}

arma::vec weighted_squared_residuals(const arma::mat& X, const arma::mat& Y, const arma::rowvec& w,
                                     const arma::mat& W, const arma::mat& b) {
  const arma::uword d = X.n_rows, m_out = Y.n_rows, n = X.n_cols;
  arma::mat partial(m_out, block_count(n));
  for_blocks(n, (d + 1 + 1) * block, m_out * (d + 3), [&](arma::uword bi, arma::uword c0, arma::uword c1, double* xt) {
    const arma::uword m = c1 - c0;
    double* r = xt + (d + 1) * block;
    transpose_block(X, c0, m, xt);
    const double* wj = w.memptr() + c0;
    for (arma::uword i = 0; i < m_out; ++i) {
      const double bias = b(i, 0);
      for (arma::uword j = 0; j < m; ++j) r[j] = Y(i, c0 + j) - bias;
      for (arma::uword a = 0; a < d; ++a) {
        const double wia = W(i, a);
        const double* x = xt + a * block;
        for (arma::uword j = 0; j < m; ++j) r[j] -= wia * x[j];
      }
      double s = 0.0;
#pragma omp simd reduction(+ : s)
      for (arma::uword j = 0; j < m; ++j) s += wj[j] * r[j] * r[j];
      partial(i, bi) = s;
    }
  });
  return sum_blocks(partial);
}

}  // namespace moe
