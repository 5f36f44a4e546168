#pragma once
// One dense mixture layer of a deep mixture of experts (Eigen, Ranzato & Sutskever 2013;
// docs/methods.md#deep-mixture-of-experts), and the balancing constraint on its gate.
//
//   z = sum_i g_i(a) f_i(a),   f_i(a) = relu(W_i a + b_i),   g(a) = softmax(W2 relu(W1 a + b1) + b2)
//
// a: D x N inputs (observations are columns), z: H x N. Expert i: W_i H x D, b_i H x 1. Gate (an MLP
// with G hidden units): W1 G x D, b1 G x 1, W2 K x G, b2 K x 1. Every expert is evaluated on every
// observation (dense mixing, no sparsity).
#include <armadillo>
#include <string>
#include <vector>

#include "moe/core/params.hpp"
#include "moe/core/rng.hpp"

namespace moe {

// The balancing constraint of Eigen et al. (2013) on one gate. `sums` are the running sums G_i of the
// gate's outputs over the training examples seen so far. Examples are taken one at a time, in column
// order: every expert i with G_i - mean(G) > margin gets g_i = 0 for that example and the others are
// renormalised (the softmax of the logits of the experts left on); then G += g. The expert with the
// smallest sum is never switched off (it is at or below the mean), so each column still sums to 1.
// Because the constrained gate is the softmax over the experts left on, its gradient is the softmax
// gradient evaluated at the constrained probabilities (switched-off experts get none).
struct GateBalance {
  arma::vec sums;           // K running sums G_i
  double margin = 0.0;      // m >= 0
  arma::uword blocked = 0;  // (expert, example) pairs switched off so far, for reports and tests

  GateBalance() = default;
  GateBalance(arma::uword experts, double margin_) : sums(experts, arma::fill::zeros), margin(margin_) {}
  // logits: K x N gate logits -> K x N constrained probabilities (columns sum to 1); advances sums.
  arma::mat apply(const arma::mat& logits);
};

class DeepMixtureLayer {
 public:
  DeepMixtureLayer(arma::uword inputs, arma::uword outputs, arma::uword experts, arma::uword gate_hidden);
  // He-scaled normal weights (std sqrt(2 / fan-in)) for the ReLU layers, std 1/sqrt(G) for the gate's
  // output layer, zero biases.
  void init(Rng& rng);
  // prefix + "expert<i>/W", "expert<i>/b" (i = 0..K-1), "gate/W1", "gate/b1", "gate/W2", "gate/b2".
  void collect(ParamList& params, const std::string& prefix);

  // What the backward pass needs from a forward pass on inputs A (D x N).
  struct Cache {
    arma::mat gate_hidden;          // G x N: relu(W1 a + b1)
    arma::mat gate;                 // K x N: gate probabilities (constrained when forward had a balance)
    std::vector<arma::mat> experts; // K matrices H x N: f_i(a)
    arma::mat output;               // H x N: z = sum_i g_i f_i
  };
  // With `balance`, the gate is the balancing-constrained one and balance->sums advance.
  Cache forward(const arma::mat& A, GateBalance* balance = nullptr) const;
  // K x N gate logits W2 relu(W1 a + b1) + b2; `hidden` (G x N) receives relu(W1 a + b1) when given.
  arma::mat gate_logits(const arma::mat& A, arma::mat* hidden = nullptr) const;
  // grads += dL/dtheta for dZ = dL/dz (H x N) at the forward pass `c` on A. Returns dL/dA (D x N) when
  // input_grad, else an empty matrix.
  arma::mat backward(const arma::mat& A, const Cache& c, const arma::mat& dZ, bool input_grad);

  arma::uword inputs() const { return W1_.n_cols; }
  arma::uword outputs() const { return b_.front().n_rows; }
  arma::uword experts() const { return W_.size(); }

 private:
  std::vector<arma::mat> W_, b_, dW_, db_;  // K of H x D, H x 1
  arma::mat W1_, b1_, W2_, b2_;             // G x D, G x 1, K x G, K x 1
  arma::mat dW1_, db1_, dW2_, db2_;
};

}  // namespace moe
