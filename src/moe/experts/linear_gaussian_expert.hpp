#pragma once
// Linear-Gaussian expert: p(y | x) = N(y; W x + b, diag(exp(s))). W: m x d, b: m x 1, s: m x 1 log-variances.
// With learn_variance = false, s stays 0 (unit variance, the 1991 paper's experts) and is not a parameter.
#include <cmath>

#include "moe/experts/expert.hpp"

namespace moe {

class LinearGaussianExpert final : public Expert {
 public:
  LinearGaussianExpert(arma::uword inputs, arma::uword outputs, bool learn_variance);
  std::string kind() const override { return "linear-gaussian"; }
  void init(Rng& rng) override;
  void collect(ParamList& params, const std::string& prefix) override;
  arma::rowvec log_likelihood(const arma::mat& X, const arma::mat& Y) const override;
  arma::mat predict(const arma::mat& X) const override;
  void accumulate_grad(const arma::mat& X, const arma::mat& Y, const arma::rowvec& w) override;
  void fit(const arma::mat& X, const arma::mat& Y, const arma::rowvec& w, const IrlsOptions& irls) override;
  void project() override;
  double variance_floor() const override { return learn_variance_ ? std::exp(log_variance_floor) : 0.0; }
  bool at_variance_floor() const override;

  // Variances never go below this (a collapsing expert would otherwise reach -inf loss).
  static constexpr double log_variance_floor = -13.815510557964274;  // log(1e-6)
  // ... nor above this (about 1e299): exp(s) and exp(-s) stay normal doubles, so a variance driven up by
  // huge residuals (raw inputs at 1e30 and a fixed-rate gradient step) never becomes Inf or 1/Inf = 0.
  static constexpr double log_variance_ceiling = 690.0;

 private:
  arma::vec floored_log_variance() const;  // s clamped to [floor, ceiling]
  bool learn_variance_;
  arma::mat W_, b_, s_;
  arma::mat dW_, db_, ds_;
};

}  // namespace moe
