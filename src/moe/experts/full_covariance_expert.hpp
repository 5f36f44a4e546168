#pragma once
// Linear-Gaussian expert with a full covariance (Jordan & Jacobs 1994: N(y; W x + b, S) with S learnt):
// S = L L' with L lower triangular, parameterised by C (m x m): L_ij = C_ij below the diagonal,
// L_ii = exp(C_ii), the upper triangle of C unused (kept at 0). W: m x d, b: m x 1.
//   log p = -0.5 |u|^2 - sum_i C_ii - m/2 log(2 pi),  u = L^-1 (y - W x - b).
#include <cmath>

#include "moe/experts/expert.hpp"

namespace moe {

class FullCovarianceExpert final : public Expert {
 public:
  FullCovarianceExpert(arma::uword inputs, arma::uword outputs);
  std::string kind() const override { return "linear-gaussian-full"; }
  void init(Rng& rng) override;
  void collect(ParamList& params, const std::string& prefix) override;
  arma::rowvec log_likelihood(const arma::mat& X, const arma::mat& Y) const override;
  arma::mat predict(const arma::mat& X) const override;
  void accumulate_grad(const arma::mat& X, const arma::mat& Y, const arma::rowvec& w) override;
  void fit(const arma::mat& X, const arma::mat& Y, const arma::rowvec& w, const IrlsOptions& irls) override;
  void project() override;
  double variance_floor() const override { return std::exp(2.0 * log_std_floor); }
  // An eigenvalue of the last M-step's covariance was floored, or a diagonal of L sits at the floor.
  bool at_variance_floor() const override;

  // Standard deviations along L's diagonal never go below this (as the diagonal expert's variance floor).
  static constexpr double log_std_floor = -6.907755278982137;  // log(1e-3)
  // ... nor above this (about 1e149, variances about 1e299): L and its inverse stay finite, so the
  // triangular solves never meet an Inf diagonal (raw inputs at 1e30 with a fixed-rate gradient step
  // once drove exp(C_ii) to Inf, and Armadillo's solve threw inside an OpenMP loop: a crash).
  static constexpr double log_std_ceiling = 345.0;

 private:
  arma::mat cholesky() const;  // L (m x m), its diagonal clamped to [floor, ceiling]
  arma::mat W_, b_, C_;
  arma::mat dW_, db_, dC_;
  bool fit_floored_ = false;  // the last M-step floored an eigenvalue
};

}  // namespace moe
