#pragma once
// Adaptive mixture of local experts (Jacobs, Jordan, Nowlan & Hinton 1991), a likelihood mixture:
//   p(y | x) = sum_i g_i(x) p_i(y | x),  loss = -mean_n log p(y_n | x_n),
//   posterior h_i = g_i p_i / sum_j g_j p_j,  dloss/d(gate logit i) = (g_i - h_i) / N,
//   dloss/d(expert i) = -(h_i / N) dlog p_i.
#include <vector>

#include "moe/experts/expert.hpp"
#include "moe/gates/linear_softmax_gate.hpp"
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

 private:
  // K x N: log g_i(x_n) + log p_i(y_n | x_n), given log g (K x N).
  arma::mat log_joint(const arma::mat& X, const arma::mat& Y, arma::mat log_gate) const;
  ModelSpec spec_;
  LinearSoftmaxGate gate_;
  std::vector<std::unique_ptr<Expert>> experts_;
};

}  // namespace moe
