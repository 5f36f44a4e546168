#pragma once
// A small network around one sparse MoE layer (ModelSpec kind "sparse"): the model moe-train trains to
// study routers, balancing losses, capacity and upcycling on real data.
//   H0 = W_in X + b_in                       d_model x N   (input embedding; X: d x N features)
//   H1 = MoE(H0)                             d_model x N   (sparse_moe_layer.hpp; residual inside)
//   Z  = W_out H1 + b_out                    m x N         softmax cross-entropy (classification) or
//                                                          squared error / 2 (regression)
// loss() is the mean task loss plus the layer's weighted auxiliary losses, always with training-mode
// routing (noise, random second experts; layer_in_model.hpp); pointwise_loss and predict route in
// evaluation mode. Each loss(..., true) call is one training step: its routing metrics go to
// routing_log(), and end_step() applies the loss-free bias update.
// Hash routing hashes each input column's raw bits (a fixed random expert per example).
#include <optional>

#include "moe/models/model.hpp"
#include "moe/sparse/layer_in_model.hpp"

namespace moe {

class SparseNet final : public Model {
 public:
  explicit SparseNet(const ModelSpec& spec);
  const ModelSpec& spec() const override { return spec_; }
  void init(Rng& rng) override;
  void collect(ParamList& params) override;
  void collect_state(ParamList& params) override;  // plus the loss-free bias, when there is one
  double loss(const arma::mat& X, const arma::mat& Y, bool accumulate_grad) override;
  arma::rowvec pointwise_loss(const arma::mat& X, const arma::mat& Y) const override;
  Prediction predict(const arma::mat& X) const override;  // gate: E x N combine weights
  arma::uword experts() const override { return spec_.experts; }
  void end_step() override;
  void visit_state(StateVisitor& v, const std::string& prefix) override;
  const RoutingLog* routing_log() const override { return &moe_.log(); }
  std::vector<RoutingStats> routing(const arma::mat& X) const override;

  SparseMoeLayer& layer() { return moe_.layer(); }
  // Sparse upcycling (Komatsuzaki et al. 2022): copies the embedding, the output layer and the one FFN
  // expert of a trained dense network (a SparseNet with 1 expert) into this one: every expert becomes
  // that FFN; the router keeps its fresh initialisation. The upcycled network starts as the dense one's
  // function when each token's weights sum to 1 (renormalised top-k) and it has no shared experts;
  // with raw weights (switch, --no-renormalize) or shared experts it starts near it, not at it.
  void upcycle_from(const SparseNet& dense);

 private:
  struct Pass {
    arma::mat H0;
    MoeForward moe;
    arma::mat Z;  // m x N output layer (logits, or predictions for regression)
  };
  Pass forward(const arma::mat& X, bool training) const;
  arma::rowvec task_loss(const arma::mat& Z, const arma::mat& Y, arma::mat* dZ) const;
  std::vector<std::uint64_t> token_ids(const arma::mat& X) const;
  void collect_into(ParamList& params, bool state);  // state: also the loss-free bias

  ModelSpec spec_;
  arma::mat Win_, bin_, Wout_, bout_, dWin_, dbin_, dWout_, dbout_;
  LayerInModel moe_;
};

}  // namespace moe
