#pragma once
// Neural language model (ModelSpec kind "lm", --task lm): ContextEncoder (embeddings of the previous n
// tokens through one hidden layer) then an OutputHead (softmax, mixture of softmaxes, mixture of
// contexts). X: n x N context token ids; Y: 1 x N next-token ids, or V x N target distributions
// (output_head.hpp). The loss is the mean cross-entropy in nats; perplexity = exp(loss).
// Evaluation runs over blocks of columns, so a V x N matrix never exists for a whole corpus.
// With --moe-layer, a sparse MoE FFN layer (residual) sits between the encoder and a softmax head:
// C' = MoE(C), hash routing by the id of the last context token; its auxiliary losses join the loss.
// The layer runs on the compute backend (sparse/moe_layer.hpp, --device/--precision); the rest of the
// model is still host code in double, trained by the host optimiser with the layer's parameters, so each
// pass uploads the layer's parameters and C and downloads C' and the gradients (the Transformer on the
// backend is to replace this model's MoE use).
#include "moe/lm/context_encoder.hpp"
#include "moe/lm/output_head.hpp"
#include "moe/models/model.hpp"
#include <memory>

#include "moe/sparse/moe_layer.hpp"

namespace moe {

class LanguageModel final : public Model {
 public:
  explicit LanguageModel(const ModelSpec& spec);
  const ModelSpec& spec() const override { return spec_; }
  void init(Rng& rng) override;
  void collect(ParamList& params) override;
  double loss(const arma::mat& X, const arma::mat& Y, bool accumulate_grad) override;
  arma::rowvec pointwise_loss(const arma::mat& X, const arma::mat& Y) const override;
  // output: V x N next-token probabilities (small N only: V x N doubles); gate: K x N prior (mos, moc).
  Prediction predict(const arma::mat& X) const override;
  arma::mat gate(const arma::mat& X) const override;  // K x N, in blocks; empty for a softmax head
  arma::uword experts() const override { return spec_.head == "softmax" && !moe_ ? 0 : spec_.experts; }
  void collect_state(ParamList& params) override;
  void end_step() override;
  void visit_state(StateVisitor& v, const std::string& prefix) override;
  const RoutingLog* routing_log() const override { return moe_ ? &moe_->routing_log() : nullptr; }
  std::vector<RoutingStats> routing(const arma::mat& X) const override;

  // V x N log-probabilities log P(w | context n).
  arma::mat log_prob(const arma::mat& X) const;
  // Columns per evaluation block: V K columns of doubles stay near 4M values.
  arma::uword block_columns() const;

 private:
  // The head's input for contexts X: the encoder's output, through the MoE layer when there is one.
  arma::mat context(const arma::mat& X) const;
  // The MoE layer on contexts C of X (h x N) into C_ -> Y_; returns C' (evaluation mode unless training).
  arma::mat moe_pass(const arma::mat& X, const arma::mat& C, bool training) const;
  std::vector<std::uint64_t> last_tokens(const arma::mat& X) const;
  // The layer's host copies (trained by the host optimiser, or loaded) onto its backend, before a pass.
  void upload_layer() const;

  ModelSpec spec_;
  ContextEncoder encoder_;
  OutputHead head_;
  // --moe-layer: the layer, its backend and parameters (host copies in the ParamList), the pass's tensors.
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<BackendParams> moe_params_;
  std::unique_ptr<MoeLayer> moe_;
  mutable Tensor C_, Y_;
  Tensor dY_, dC_, aux_;
};

}  // namespace moe
