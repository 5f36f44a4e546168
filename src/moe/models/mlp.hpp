#pragma once
// One-hidden-layer perceptron, the backprop baseline: a = act(W1 x + b1), z = W2 a + b2.
// Output softmax: loss = -sum_c y_c log softmax(z)_c. Output sigmoid / linear: loss = 0.5 ||y - out(z)||^2.
// W1: H x d, b1: H x 1, W2: m x H, b2: m x 1.
#include "moe/models/model.hpp"

namespace moe {

class Mlp final : public Model {
 public:
  explicit Mlp(const ModelSpec& spec);
  const ModelSpec& spec() const override { return spec_; }
  void init(Rng& rng) override;
  void collect(ParamList& params) override;
  double loss(const arma::mat& X, const arma::mat& Y, bool accumulate_grad) override;
  arma::rowvec pointwise_loss(const arma::mat& X, const arma::mat& Y) const override;
  Prediction predict(const arma::mat& X) const override;
  // grads += d/dtheta of sum(D % output(X)) for D (m x N): the chain rule from any loss on the outputs
  // (meta-pi blends the outputs of several MLP experts).
  void accumulate_output_grad(const arma::mat& X, const arma::mat& D);

 private:
  arma::mat hidden(const arma::mat& X) const;          // H x N activations
  // grads += backprop of dZ (m x N, d(loss)/d(output pre-activations)) given the hidden activations A.
  void backprop(const arma::mat& X, const arma::mat& A, const arma::mat& dZ);
  arma::mat output_of(const arma::mat& Z) const;       // m x N from pre-activations
  ModelSpec spec_;
  arma::mat W1_, b1_, W2_, b2_;
  arma::mat dW1_, db1_, dW2_, db2_;
};

}  // namespace moe
