#include "moe/experts/linear_gaussian_expert.hpp"

#include "moe/core/blocked.hpp"
#include "moe/core/least_squares.hpp"
#include "moe/core/math.hpp"
#include "moe/experts/expert_registry.hpp"

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
  params.add(prefix + "W", W_, dW_, ParamKind::weight);
  params.add(prefix + "b", b_, db_);
  if (learn_variance_) params.add(prefix + "log_var", s_, ds_);
}

arma::vec LinearGaussianExpert::floored_log_variance() const {
  return arma::clamp(s_.col(0), log_variance_floor, log_variance_ceiling);
}

void LinearGaussianExpert::project() {
  if (learn_variance_) s_ = arma::clamp(s_, log_variance_floor, log_variance_ceiling);
}

bool LinearGaussianExpert::at_variance_floor() const {
  // 1e-9: the M-step stores log(exp(floor)), which may differ from the floor in the last bits.
  return learn_variance_ && s_.n_elem > 0 && s_.min() <= log_variance_floor + 1e-9;
}

arma::mat LinearGaussianExpert::predict(const arma::mat& X) const {
  arma::mat M = W_ * X;
  M.each_col() += b_.col(0);
  return M;
}

arma::rowvec LinearGaussianExpert::log_likelihood(const arma::mat& X, const arma::mat& Y) const {
  using namespace blocked;
  const arma::vec s = floored_log_variance();
  const arma::vec inv_var = arma::exp(-s);
  const double constant = -0.5 * (arma::accu(s) + double(s.n_elem) * log_2pi);
  const arma::uword d = X.n_rows, m_out = Y.n_rows, n = X.n_cols;
  arma::rowvec out(n);
  // One pass per block of observations: inputs transposed into rows, then per output the residual row
  // and its scaled square, without N-sized temporaries.
  for_blocks(n, (d + 2) * block, m_out * (d + 3), [&](arma::uword, arma::uword c0, arma::uword c1, double* xt) {
    const arma::uword m = c1 - c0;
    double* r = xt + d * block;
    double* z = r + block;
    for (arma::uword j = 0; j < m; ++j) {
      const double* x = X.colptr(c0 + j);
      for (arma::uword a = 0; a < d; ++a) xt[a * block + j] = x[a];
    }
    std::fill_n(z, m, 0.0);
    for (arma::uword i = 0; i < m_out; ++i) {
      const double bias = b_(i, 0), iv = inv_var[i];
      for (arma::uword j = 0; j < m; ++j) r[j] = Y(i, c0 + j) - bias;
      for (arma::uword a = 0; a < d; ++a) {
        const double wia = W_(i, a);
        const double* x = xt + a * block;
        for (arma::uword j = 0; j < m; ++j) r[j] -= wia * x[j];
      }
      for (arma::uword j = 0; j < m; ++j) z[j] += r[j] * r[j] * iv;
    }
    double* o = out.memptr() + c0;
    for (arma::uword j = 0; j < m; ++j) o[j] = -0.5 * z[j] + constant;
  });
  return out;
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
    // d(-log p)/ds_j = 0.5 (1 - r_j^2 / var_j); zero below the floor and above the ceiling, where s does
    // not enter the loss.
    arma::mat Q = arma::square(R);
    Q.each_col() %= inv_var;
    Q = 0.5 * (1.0 - Q);
    arma::vec g = Q * w.t();
    g.elem(arma::find(s_.col(0) < log_variance_floor || s_.col(0) > log_variance_ceiling)).zeros();
    ds_ += g;
  }
}

void LinearGaussianExpert::fit(const arma::mat& X, const arma::mat& Y, const arma::rowvec& w,
                               const IrlsOptions& irls) {
  const double mass = arma::accu(w);
  if (mass <= 1e-300) return;
  // The mean given the current variances (ECM; plain weighted least squares without a penalty), then the
  // variances given the mean.
  const arma::vec variance = learn_variance_ ? arma::vec(arma::exp(floored_log_variance())) : arma::vec(Y.n_rows, arma::fill::ones);
  penalised_least_squares(X, Y, w, irls.l2, arma::diagmat(variance), W_, b_);
  if (learn_variance_) {
    const arma::vec var = weighted_squared_residuals(X, Y, w, W_, b_) / mass;  // m: weighted residual variance
    s_ = arma::log(arma::clamp(var, std::exp(log_variance_floor), std::exp(log_variance_ceiling)));
  }
}

namespace {
const ExpertRegistration registered{{
    .name = "linear-gaussian",
    .help = "linear regression y ~ N(W x + b, diag(s^2)) with a learnable diagonal variance (unit with "
            "--fixed-variance)",
    .classification_only = false,
    .parameters = [](double d, double m) { return m * d; },
    .make = [](arma::uword inputs, arma::uword outputs, bool learn_variance) -> std::unique_ptr<Expert> {
      return std::make_unique<LinearGaussianExpert>(inputs, outputs, learn_variance);
    },
}};
}  // namespace

}  // namespace moe
