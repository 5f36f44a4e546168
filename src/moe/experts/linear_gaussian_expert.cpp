#include "moe/experts/linear_gaussian_expert.hpp"

#include "moe/core/least_squares.hpp"
#include "moe/core/math.hpp"

namespace moe {

LinearGaussianExpert::LinearGaussianExpert(arma::uword inputs, arma::uword outputs, bool learn_variance)
    : learn_variance_(learn_variance),
      W_(outputs, inputs, arma::fill::zeros),
      b_(outputs, 1, arma::fill::zeros),
      s_(outputs, 1, arma::fill::zeros) {}

void LinearGaussianExpert::init(Rng& rng) {
  W_ = rng.normal_matrix(W_.n_rows, W_.n_cols, 1.0 / std::sqrt(double(W_.n_cols) + 1.0));
  b_ = rng.normal_matrix(b_.n_rows, 1, 0.5);
  s_.zeros();
}

void LinearGaussianExpert::collect(ParamList& params, const std::string& prefix) {
  params.add(prefix + "W", W_, dW_);
  params.add(prefix + "b", b_, db_);
  if (learn_variance_) params.add(prefix + "log_var", s_, ds_);
}

arma::vec LinearGaussianExpert::floored_log_variance() const {
  return arma::clamp(s_.col(0), log_variance_floor, arma::datum::inf);
}

arma::mat LinearGaussianExpert::predict(const arma::mat& X) const {
  arma::mat M = W_ * X;
  M.each_col() += b_.col(0);
  return M;
}

arma::rowvec LinearGaussianExpert::log_likelihood(const arma::mat& X, const arma::mat& Y) const {
  const arma::vec s = floored_log_variance();
  const arma::vec inv_var = arma::exp(-s);      // evaluated once: each_col would re-evaluate an expression per column
  arma::mat R = Y - predict(X);                 // m x N residuals
  arma::mat Z = arma::square(R);
  Z.each_col() %= inv_var;
  return -0.5 * arma::sum(Z, 0) - 0.5 * (arma::accu(s) + double(s.n_elem) * log_2pi);
}

void LinearGaussianExpert::accumulate_grad(const arma::mat& X, const arma::mat& Y, const arma::rowvec& w) {
  const arma::vec s = floored_log_variance();
  const arma::vec inv_var = arma::exp(-s);
  arma::mat R = Y - predict(X);
  // d(-log p)/dmean = -(y - mean) / var, weighted per column.
  arma::mat G = R;
  G.each_col() %= inv_var;
  G.each_row() %= w;
  dW_ -= G * X.t();
  db_ -= arma::sum(G, 1);
  if (learn_variance_) {
    // d(-log p)/ds_j = 0.5 (1 - r_j^2 / var_j); zero below the floor, where s does not enter the loss.
    arma::mat Q = arma::square(R);
    Q.each_col() %= inv_var;
    Q = 0.5 * (1.0 - Q);
    arma::vec g = Q * w.t();
    g.elem(arma::find(s_.col(0) < log_variance_floor)).zeros();
    ds_ += g;
  }
}

void LinearGaussianExpert::fit(const arma::mat& X, const arma::mat& Y, const arma::rowvec& w, const IrlsOptions&) {
  const double mass = arma::accu(w);
  if (mass <= 1e-300) return;
  weighted_least_squares(X, Y, w, W_, b_);
  if (learn_variance_) {
    const arma::mat R = Y - predict(X);
    const arma::vec var = (arma::square(R) * w.t()) / mass;  // m: weighted residual variance
    s_ = arma::log(arma::clamp(var, std::exp(log_variance_floor), arma::datum::inf));
  }
}

}  // namespace moe
