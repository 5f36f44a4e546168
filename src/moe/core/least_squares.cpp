#include "moe/core/least_squares.hpp"

namespace moe {

void weighted_least_squares(const arma::mat& X, const arma::mat& Y, const arma::rowvec& w, arma::mat& W,
                            arma::mat& b) {
  // [W b] = (Y diag(w) Xt') (Xt diag(w) Xt')^-1
  const arma::mat Xt = with_bias_row(X);  // (d+1) x N
  const arma::mat Xw = Xt.each_row() % w;
  const arma::mat A = Xw * Xt.t();        // (d+1) x (d+1)
  const arma::mat B = Y * Xw.t();         // m x (d+1)
  arma::mat coef;                         // (d+1) x m
  if (!arma::solve(coef, A, B.t(), arma::solve_opts::likely_sympd + arma::solve_opts::no_approx))
    coef = arma::pinv(A) * B.t();
  W = coef.rows(0, X.n_rows - 1).t();
  b = coef.row(X.n_rows).t();
}

}  // namespace moe
