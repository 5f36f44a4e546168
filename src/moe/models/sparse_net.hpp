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
// Expert parallelism (a Communicator, moe-train --expert-parallel under mpirun): every rank holds the
// whole data set and a copy of the embedding, the output layer, the router and the shared experts, and
// E / P of the experts; each call takes the whole batch and works on this rank's share of its columns
// (N / P, in rank order), so the trainer is unchanged. loss sums the task loss over the ranks and the
// copies' gradients too, so every rank takes the same step on them and the run follows the one-process
// run step for step; predict, pointwise_loss and routing return the whole batch's on every rank. Every
// call is collective: all ranks make the same calls in the same order. With --device cuda and a build with
// NCCL the routed experts' tokens move between the ranks' GPUs over NCCL, one GPU per process.
#include <memory>
#include <optional>

#include "moe/models/model.hpp"
#include "moe/parallel/device_communicator.hpp"
#include "moe/sparse/layer_in_model.hpp"

namespace moe {

// Hash routing's token ids: FNV-1a over each column's bytes (-0 and +0 alike), N.
std::vector<std::uint64_t> column_hash_ids(const arma::mat& X);

class SparseNet final : public Model {
 public:
  // gpu_exchange (with expert_parallel and --device cuda): the routed tokens move between the ranks' GPUs
  // through it (NCCL; gpu_communicators.hpp) instead of host memory. Both must outlive the network.
  explicit SparseNet(const ModelSpec& spec, Communicator* expert_parallel = nullptr,
                     DeviceCommunicator* gpu_exchange = nullptr);
  // replicated_ points into this object: not copied or moved.
  SparseNet(const SparseNet&) = delete;
  SparseNet& operator=(const SparseNet&) = delete;
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
  const SparseMoeLayer& layer() const { return moe_.layer(); }
  Communicator* communicator() const { return comm_; }
  // Expert parallelism: the one-process model with this one's parameters, all experts gathered from the
  // ranks, on rank 0; null on the others (collective: every rank calls it; for writing the model). The
  // other ranks never hold more than one parameter matrix of the whole model at a time. Without a
  // communicator, a copy.
  std::unique_ptr<SparseNet> whole();
  // Sparse upcycling (Komatsuzaki et al. 2022): copies the embedding, the output layer and the one FFN
  // expert of a trained dense network (a SparseNet with 1 expert) into this one: every expert becomes
  // that FFN; the router keeps its fresh initialisation. The upcycled network starts as the dense one's
  // function when each token's weights sum to 1 (renormalised top-k) and it has no shared experts;
  // with raw weights (switch, --no-renormalize) or shared experts it starts near it, not at it.
  void upcycle_from(const SparseNet& dense);

 private:
  struct Pass {
    arma::uword first = 0, n = 0;  // the columns of the batch this rank worked on
    arma::mat X;                   // expert parallelism: those columns of the inputs (empty otherwise)
    arma::mat H0;
    MoeForward moe;
    arma::mat Z;  // m x N output layer (logits, or predictions for regression)
  };
  Pass forward(const arma::mat& X, bool training) const;
  arma::rowvec task_loss(const arma::mat& Z, const arma::mat& Y, arma::mat* dZ) const;
  std::vector<std::uint64_t> token_ids(const arma::mat& X) const;
  void collect_into(ParamList& params, bool state);  // state: also the loss-free bias
  void collect_replicated(ParamList& params);          // every parameter but the experts
  // rows x N from each rank's rows x n part (Pass::first, n): the same matrix on every rank.
  arma::mat gather(const arma::mat& part, const Pass& p, arma::uword N) const;

  double device_seconds() const { return gpu_exchange_ ? gpu_exchange_->seconds() : 0.0; }

  ModelSpec spec_;
  Communicator* comm_ = nullptr;
  DeviceCommunicator* gpu_exchange_ = nullptr;
  ParamList replicated_;  // expert parallelism: the copies every rank holds (collect_replicated), for the sums
  arma::mat Win_, bin_, Wout_, bout_, dWin_, dbin_, dWout_, dbout_;
  LayerInModel moe_;
};

}  // namespace moe
