#pragma once
// Adaptive mixture of local experts (Jacobs, Jordan, Nowlan & Hinton 1991), a likelihood mixture:
//   p(y | x) = sum_i g_i(x) p_i(y | x),  loss = -mean_n log p(y_n | x_n),
//   posterior h_i = g_i p_i / sum_j g_j p_j,  dloss/d(gate logit i) = (g_i - h_i) / N,
//   dloss/d(expert i) = -(h_i / N) dlog p_i.
// The gate is spec.gate: "linear" (softmax(V x + c), parameters "gate/V", "gate/c") or "gaussian"
// (Xu, Jordan & Hinton 1995: g_j ∝ a_j N(x; m_j, S_j), parameters "gate/alpha", "gate/means",
// "gate/log_var"); both through the Gate interface, whose logits feed the softmax above.
#include <memory>
#include <vector>

#include "moe/experts/expert.hpp"
#include "moe/gates/gate.hpp"
#include "moe/models/model.hpp"

namespace moe {

class LocalExpertsMixture final : public Model, public EmTrainable {
 public:
  explicit LocalExpertsMixture(const ModelSpec& spec);
  const ModelSpec& spec() const override { return spec_; }
  void init(Rng& rng) override;
  void collect(ParamList& params) override;
  double loss(const arma::mat& X, const arma::mat& Y, bool accumulate_grad) override;
  arma::rowvec pointwise_loss(const arma::mat& X, const arma::mat& Y) const override;
  Prediction predict(const arma::mat& X) const override;
  arma::mat posterior(const arma::mat& X, const arma::mat& Y) const override;
  arma::uword experts() const override { return experts_.size(); }
  EmTrainable* em() override { return this; }
  double em_step(const arma::mat& X, const arma::mat& Y, const EmOptions& options) override;
  // After each gradient step: every expert back inside its constraints (variance floors).
  void end_step() override;
  // Warns (once per expert) about experts that received no posterior mass in the epoch, or whose
  // variance sits at its floor.
  void end_epoch(std::size_t epoch) override;
  // The quantity EM never decreases: sum_n log p(y_n | x_n) + log p(x_n), where log p(x) is the gate's
  // input density (0 for the linear gate, so this is the conditional log-likelihood; for the Gaussian
  // gate it is the joint log p(x, y) = log sum_j a_j N(x; m_j, S_j) p_j(y | x)).
  double em_objective(const arma::mat& X, const arma::mat& Y) const;
  const Gate& gate() const { return *gate_; }

 private:
  // K x N: log g_i(x_n) + log p_i(y_n | x_n), given log g (K x N).
  arma::mat log_joint(const arma::mat& X, const arma::mat& Y, arma::mat log_gate) const;
  ModelSpec spec_;
  std::unique_ptr<Gate> gate_;
  std::vector<std::unique_ptr<Expert>> experts_;
  arma::vec epoch_mass_;      // K: posterior mass each expert received in this epoch's training passes
  double epoch_points_ = 0;   // observations those passes saw
  void add_mass(const arma::mat& H);
};

}  // namespace moe
