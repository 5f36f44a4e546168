#pragma once
// Softmax classifier expert: p(y = c | x) = softmax(W x + b)_c. W: C x d, b: C x 1.
// The target Y (C x N) is one-hot or a soft distribution: log p = sum_c Y_c log softmax_c.
#include "moe/experts/expert.hpp"

namespace moe {

class SoftmaxExpert final : public Expert {
 public:
  SoftmaxExpert(arma::uword inputs, arma::uword classes)
      : W_(classes, inputs, arma::fill::zeros), b_(classes, 1, arma::fill::zeros) {}
  std::string kind() const override { return "softmax"; }
  void init(Rng& rng) override;
  void collect(ParamList& params, const std::string& prefix) override;
  arma::rowvec log_likelihood(const arma::mat& X, const arma::mat& Y) const override;
  arma::mat predict(const arma::mat& X) const override;
  void accumulate_grad(const arma::mat& X, const arma::mat& Y, const arma::rowvec& w) override;
  void fit(const arma::mat& X, const arma::mat& Y, const arma::rowvec& w, const IrlsOptions& irls) override;

 private:
  arma::mat logits(const arma::mat& X) const;
  arma::mat W_, b_, dW_, db_;
};

}  // namespace moe
