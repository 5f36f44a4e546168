#pragma once
// Weighted linear least squares with a bias, the M-step of every linear-Gaussian expert.
#include <armadillo>

namespace moe {

// X: d x N -> (d+1) x N with a last row of ones (the bias as an input).
inline arma::mat with_bias_row(const arma::mat& X) { return arma::join_cols(X, arma::ones<arma::rowvec>(X.n_cols)); }

// Minimises sum_n w_n |y_n - W x_n - b|^2 over W (m x d) and b (m x 1), given X (d x N), Y (m x N),
// w (1 x N). A rank-deficient weighted design (weight on fewer than d+1 points) gets the minimum-norm fit.
void weighted_least_squares(const arma::mat& X, const arma::mat& Y, const arma::rowvec& w, arma::mat& W,
                            arma::mat& b);

// sum_n w_n (y_n - W x_n - b)^2 per output (m): the weighted residual sum of squares, with X (d x N),
// Y (m x N), w (1 x N), W (m x d), b (m x 1).
arma::vec weighted_squared_residuals(const arma::mat& X, const arma::mat& Y, const arma::rowvec& w,
                                     const arma::mat& W, const arma::mat& b);

}  // namespace moe
