#pragma once
// Input-free Gaussian expert of Jacobs et al. 1991: p(y | x) = N(y; mu, I). mu: m x 1.
#include "moe/experts/expert.hpp"

namespace moe {

class GaussianExpert final : public Expert {
 public:
  explicit GaussianExpert(arma::uword outputs) : mu_(outputs, 1, arma::fill::zeros) {}
  std::string kind() const override { return "gaussian"; }
  void init(Rng& rng) override;
  void collect(ParamList& params, const std::string& prefix) override;
  arma::rowvec log_likelihood(const arma::mat& X, const arma::mat& Y) const override;
  arma::mat predict(const arma::mat& X) const override;
  void accumulate_grad(const arma::mat& X, const arma::mat& Y, const arma::rowvec& w) override;
  void fit(const arma::mat& X, const arma::mat& Y, const arma::rowvec& w, const IrlsOptions& irls) override;

 private:
  arma::mat mu_, dmu_;
};

}  // namespace moe
