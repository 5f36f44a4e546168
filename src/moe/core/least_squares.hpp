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

// The penalised fit of a Gaussian expert's mean with its output covariance S (m x m, symmetric positive
// definite) held: minimises (1/2) sum_n w_n r_n' S^-1 r_n + (l2 / 2) |W|^2 over W and b, r_n = y_n - W x_n
// - b (the bias is not penalised). The exact conditional maximiser of the likelihood under a Gaussian
// prior N(0, I / l2) on W, so an ECM step (then the covariance given W) never lowers the penalised
// likelihood. S diagonal decouples the outputs into ridge regressions with penalties l2 S_jj. l2 = 0:
// weighted_least_squares.
void penalised_least_squares(const arma::mat& X, const arma::mat& Y, const arma::rowvec& w, double l2,
                             const arma::mat& S, arma::mat& W, arma::mat& b);

// sum_n w_n (y_n - W x_n - b)^2 per output (m): the weighted residual sum of squares, with X (d x N),
// Y (m x N), w (1 x N), W (m x d), b (m x 1).
arma::vec weighted_squared_residuals(const arma::mat& X, const arma::mat& Y, const arma::rowvec& w,
                                     const arma::mat& W, const arma::mat& b);

}  // namespace moe
