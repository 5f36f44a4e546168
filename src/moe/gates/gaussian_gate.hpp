#pragma once
// Gaussian (localised) gate of Xu, Jordan & Hinton (1995):
//   g_j(x) = a_j N(x; m_j, S_j) / sum_i a_i N(x; m_i, S_i),  a = softmax(alpha),  S_j = diag(exp(log_var_j)).
// Its "logits" are z_j(x) = log a_j + log N(x; m_j, S_j), so the column softmax of z is g and the
// column log-sum-exp of z is log p(x) = log sum_j a_j N(x; m_j, S_j).
//
// Parameters (names under the prefix): "alpha" (K x 1), "means" (d x K, column j = m_j), "log_var"
// (d x K, column j = log diag S_j).
//
// EM. The closed-form M-step (a_j = mean of h_j, m_j = h_j-weighted mean of x, S_j = h_j-weighted diagonal
// covariance) maximises the expected complete-data log-likelihood of the JOINT model
//   p(x, y) = sum_j a_j N(x; m_j, S_j) p_j(y | x),
// whose posteriors h_j ∝ a_j N(x; m_j, S_j) p_j(y | x) are exactly the conditional model's. So EM with this
// gate never decreases log p(x, y) = log p(y | x) + log p(x); it does NOT guarantee that log p(y | x)
// (the mixture's loss) goes down at every step. Gradient training, in contrast, minimises -log p(y | x)
// through the logits.
#include <armadillo>
#include <string>

#include "moe/gates/gate.hpp"

namespace moe {

class GaussianGate final : public Gate {
 public:
  GaussianGate(arma::uword inputs, arma::uword experts);
  std::string kind() const override { return "gaussian"; }
  // alpha = 0 (equal a_j), unit variances, means drawn from N(0, s^2) with s = scale, or s = 1 when
  // scale is 0 (inputs are standardised by the jobs; coincident centres would make the gate uniform).
  void init(Rng& rng, double scale = 0.0) override;
  void collect(ParamList& params, const std::string& prefix) override;

  arma::mat logits(const arma::mat& X) const override;  // K x N: log a_j + log N(x_n; m_j, S_j)
  arma::rowvec log_input_density(const arma::mat& X) const override;  // log sum_j a_j N(x; m_j, S_j)
  void accumulate_grad(const arma::mat& X, const arma::mat& dlogits) override;
  // The closed-form M-step (fit below); options.gate_fit must be "irls" (the default; nothing iterates).
  void em_fit(const arma::mat& X, const arma::mat& H, const arma::rowvec& w, const EmOptions& options) override;
  // a_j ∝ sum_n w_n h_jn, m_j and diagonal S_j the (w h_j)-weighted mean and variance of x, variances
  // floored at variance_floor times the w-weighted variance of each input (and at least 1e-12). The
  // floored maximiser is the constrained maximiser, so EM stays monotone in log p(x, y). A component
  // with (almost) no weight keeps its mean and variances.
  void fit(const arma::mat& X, const arma::mat& H, const arma::rowvec& w);

  arma::uword inputs() const override { return means_.n_rows; }
  arma::uword experts() const override { return means_.n_cols; }
  arma::vec mixing() const;                      // a = softmax(alpha), K x 1
  const arma::mat& means() const { return means_; }  // d x K
  arma::mat variances() const { return arma::exp(log_var_); }  // d x K

  double variance_floor = 1e-6;

 private:
  arma::mat alpha_, means_, log_var_;  // K x 1, d x K, d x K
  arma::mat dalpha_, dmeans_, dlog_var_;
};

}  // namespace moe
