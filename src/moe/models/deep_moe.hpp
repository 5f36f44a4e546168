#pragma once
// Deep mixture of experts (Eigen, Ranzato & Sutskever 2013; docs/methods.md#deep-mixture-of-experts): L stacked dense
// mixture layers (moe::DeepMixtureLayer) and a softmax classifier on top,
//
//   z_0 = x,   z_l = sum_i g_li(z_{l-1}) f_li(z_{l-1}),   p(y | x) = softmax(V z_L + c),
//
// trained on the mean cross-entropy. x: d x N; every z_l: H x N (H = spec.expert_hidden); V: m x H,
// c: m x 1. Layer l has spec.layer_experts[l-1] experts f_li(z) = relu(W z + b) and an MLP gate with
// spec.gate_hidden hidden units. Parameters are named layer<l>/expert<i>/W, layer<l>/expert<i>/b,
// layer<l>/gate/W1, b1, W2, b2 and output/W, output/b.
//
// Balancing (the paper's constraint against one expert taking every example): with
// spec.balance_epochs > 0, the training steps (loss with accumulate_grad) of the first balance_epochs
// epochs use the constrained gates of moe::GateBalance on every layer, margin spec.balance_margin,
// with running sums kept over all training examples seen since init(); end_epoch() then drops the
// constraint and training goes on unconstrained (fine-tuning). Predictions never use it.
#include <vector>

#include "moe/models/deep_layer.hpp"
#include "moe/models/model.hpp"

namespace moe {

class DeepMoe final : public Model {
 public:
  explicit DeepMoe(const ModelSpec& spec);
  const ModelSpec& spec() const override { return spec_; }
  void init(Rng& rng) override;  // also resets the balancing sums and turns the constraint on
  void collect(ParamList& params) override;
  double loss(const arma::mat& X, const arma::mat& Y, bool accumulate_grad) override;
  arma::rowvec pointwise_loss(const arma::mat& X, const arma::mat& Y) const override;
  // output: m x N class probabilities; gate: layer 1's K_1 x N gate probabilities.
  Prediction predict(const arma::mat& X) const override;
  arma::uword experts() const override { return spec_.layer_experts.front(); }
  std::vector<arma::mat> layer_gates(const arma::mat& X) const override;
  // After epoch spec.balance_epochs the constraint is dropped.
  void end_epoch(std::size_t epoch) override;

  bool balancing() const { return balancing_; }
  void set_balancing(bool on) { balancing_ = on; }
  // The balancing constraint (on or off) and each layer's running sums.
  void visit_state(StateVisitor& v, const std::string& prefix) override;
  const GateBalance& balance(arma::uword layer) const { return balance_.at(layer); }  // 0-based layer

 private:
  struct Pass {
    std::vector<DeepMixtureLayer::Cache> layers;
    arma::mat logits;  // m x N
  };
  // Forward through every layer; with `balance` (one per layer) the gates are constrained.
  Pass forward(const arma::mat& X, std::vector<GateBalance>* balance) const;
  ModelSpec spec_;
  std::vector<DeepMixtureLayer> layers_;
  arma::mat V_, c_, dV_, dc_;
  std::vector<GateBalance> balance_;
  bool balancing_ = false;
};

}  // namespace moe
