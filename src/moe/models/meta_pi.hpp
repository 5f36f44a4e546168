#pragma once
// Meta-pi network (Hampshire & Waibel 1992): a linear-softmax gate blends the experts' outputs,
//   y_hat(x) = sum_i g_i(x) f_i(x),   loss = mean_n ||y_n - y_hat(x_n)||^2 / 2,
// trained by gradient descent through gate and experts (dL/df_i = g_i (y_hat - y) / N,
// dL/dg_i = f_i . (y_hat - y) / N). Experts are one-hidden-layer MLPs (moe::Mlp: softmax, sigmoid or
// linear outputs) or linear softmax classifiers (moe::SoftmaxExpert), and may be frozen: pre-trained
// (e.g. one per speaker group, loaded from moe-train result files by set_expert) and left out of
// collect(), while collect_state() still lists them so the saved model is self-contained.
// Each expert sees its own affine map of the inputs, x_i = scale_i % x + shift_i (identity unless set):
// a loaded expert was trained on inputs standardised with its own training statistics.
#include <memory>
#include <vector>

#include "moe/experts/softmax_expert.hpp"
#include "moe/gates/gate.hpp"
#include "moe/models/mlp.hpp"
#include "moe/models/model.hpp"

namespace moe {

class MetaPi final : public Model {
 public:
  explicit MetaPi(const ModelSpec& spec);
  const ModelSpec& spec() const override { return spec_; }
  void init(Rng& rng) override;
  // The gate, plus the experts unless spec().freeze_experts.
  void collect(ParamList& params) override;
  // Gate, experts and the experts' input maps.
  void collect_state(ParamList& params) override;
  double loss(const arma::mat& X, const arma::mat& Y, bool accumulate_grad) override;
  arma::rowvec pointwise_loss(const arma::mat& X, const arma::mat& Y) const override;
  Prediction predict(const arma::mat& X) const override;
  // h_i proportional to g_i exp(-||y - f_i||^2 / 2): which expert explains each target best, weighted
  // by the gate (the squared-error loss read as a Gaussian likelihood; for reporting only).
  arma::mat posterior(const arma::mat& X, const arma::mat& Y) const override;
  arma::uword experts() const override { return spec_.experts; }

  // Copies a trained model's parameters into expert i (an mlp of this meta-pi's expert architecture,
  // or for softmax experts a model whose parameters are named W and b) and sets its input map.
  void set_expert(arma::uword i, Model& trained, const arma::vec& input_scale, const arma::vec& input_shift);
  // m x N output of expert i on the meta-pi's inputs X.
  arma::mat expert_output(arma::uword i, const arma::mat& X) const;

 private:
  arma::mat expert_inputs(arma::uword i, const arma::mat& X) const;
  void collect_experts(ParamList& params);
  ModelSpec spec_;
  std::unique_ptr<Gate> gate_;  // --gate, any registered gate (trained by gradient)
  std::vector<std::unique_ptr<Mlp>> mlps_;                // expert == "mlp"
  std::vector<std::unique_ptr<SoftmaxExpert>> softmaxes_; // expert == "softmax"
  std::vector<arma::mat> scale_, shift_, dscale_, dshift_;  // d x 1 input maps (never trained)
};

}  // namespace moe
