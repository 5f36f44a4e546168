#pragma once
// The linear map behind most routers: logits Z = W X, W: E x d, X: d x T, Z: E x T (no bias, as in
// Shazeer 2017, Switch and GShard). Owns W and its gradient.
#include <armadillo>
#include <cmath>
#include <string>

#include "moe/core/error.hpp"
#include "moe/core/params.hpp"
#include "moe/core/rng.hpp"

namespace moe {

class LinearLogits {
 public:
  LinearLogits(arma::uword inputs, arma::uword experts) : W_(experts, inputs, arma::fill::zeros), dW_(W_) {}
  // N(0, scale^2 / d) entries; scale 0 gives the all-zero start of Shazeer's W_g and W_noise.
  void init(Rng& rng, double scale) {
    W_ = scale == 0.0 ? arma::mat(W_.n_rows, W_.n_cols, arma::fill::zeros)
                      : rng.normal_matrix(W_.n_rows, W_.n_cols, scale / std::sqrt(double(W_.n_cols)));
  }
  void collect(ParamList& params, const std::string& name) { params.add(name, W_, dW_); }
  arma::mat logits(const arma::mat& X) const {
    require(X.n_rows == W_.n_cols, "router: tokens have " + std::to_string(X.n_rows) + " features, expected " +
                                       std::to_string(W_.n_cols));
    arma::mat Z = W_ * X;
    require(Z.is_finite(), "router: logits are not finite");
    return Z;
  }
  // dW += dZ X^T; returns dL/dX = W^T dZ (d x T).
  arma::mat backward(const arma::mat& X, const arma::mat& dZ) {
    dW_ += dZ * X.t();
    return W_.t() * dZ;
  }
  arma::uword inputs() const { return W_.n_cols; }
  arma::uword experts() const { return W_.n_rows; }
  arma::mat& weights() { return W_; }

 private:
  arma::mat W_, dW_;
};

}  // namespace moe
