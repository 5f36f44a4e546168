#pragma once
// The network of --model sparse (ModelSpec kind "sparse"): the model moe-train trains to study routers,
// balancing losses, capacity and upcycling on real data, on the compute backend (moe/backend/backend.hpp),
// so that its parameters, gradients and optimiser state stay in the backend's memory.
//   H0 = W_in X + b_in               D x N   (X: d x N inputs)
//   H1 = MoE(H0)                     D x N   the sparse MoE layer (sparse/moe_layer.hpp), residual included
//   Z  = W_out H1 + b_out            m x N   softmax cross-entropy or squared error / 2
//   loss = mean task loss + the layer's weighted auxiliary losses
// One training step (step(), step_on()) is forward, backward and the optimiser's update, all backend ops;
// the host uploads the batch (or its column indices) and reads nothing back: the losses are summed on the
// backend and read once an epoch (add_loss_sums).
// Expert parallelism (a Communicator, moe-train --expert-parallel under mpirun): every process holds the
// whole data set and a copy of the embedding, the output layer, the router and the shared experts, and
// its share of the experts (sparse/moe_layer.hpp); each step takes the whole batch's columns and works on
// this process's share of them (N / P, in rank order), the copies' gradients summed over the processes
// before the optimiser's step, so every process takes the same step and the run follows the one-process
// run. The Model calls (loss, predict, pointwise_loss, routing) return the whole batch's on every
// process. Every call is collective: all processes make the same calls in the same order.
#include <armadillo>
#include <memory>
#include <string>
#include <vector>

#include "moe/backend/backend.hpp"
#include "moe/backend/backend_params.hpp"
#include "moe/core/rng.hpp"
#include "moe/models/backend_training.hpp"
#include "moe/models/model.hpp"
#include "moe/sparse/moe_layer.hpp"

namespace moe {

// Hash routing's token ids: FNV-1a over each column's bytes (-0 and +0 alike), N.
std::vector<std::uint64_t> column_hash_ids(const arma::mat& X);

class SparseNet final : public Model, public BackendTraining {
 public:
  SparseNet(const ModelSpec& spec, std::unique_ptr<Backend> backend, Communicator* expert_parallel = nullptr);
  // Model
  const ModelSpec& spec() const override { return spec_; }
  // The draws of SparseNet::init, in its order: W_in, W_out, then the layer's.
  void init(Rng& rng) override;
  void collect(ParamList& params) override;        // host copies, under SparseNet's names
  void collect_state(ParamList& params) override;  // plus the router's bias (loss-free, sigmoid-topk)
  // The Model interface's path (gradient checks, tests): uploads the host copies first, runs a training
  // forward and backward, and adds the gradients to the ParamList's; no optimiser step, no bias update.
  double loss(const arma::mat& X, const arma::mat& Y, bool accumulate_grad) override;
  arma::rowvec pointwise_loss(const arma::mat& X, const arma::mat& Y) const override;
  Prediction predict(const arma::mat& X) const override;
  arma::uword experts() const override { return spec_.experts; }
  BackendTraining* backend_training() override { return this; }
  // The Model interface's step (after the host optimiser's): the layer's bias update and next noise.
  void end_step() override;
  const RoutingLog* routing_log() const override { return &moe_->routing_log(); }
  std::vector<RoutingStats> routing(const arma::mat& X) const override;  // evaluation-mode balance on X
  void visit_state(StateVisitor& v, const std::string& prefix) override { moe_->visit_state(v, prefix + "moe/"); }
  // BackendTraining
  void start(const BackendOptimizer& optimizer) override;
  void step(const arma::mat& X, const arma::mat& Y) override;
  void set_data(const arma::mat& X, const arma::mat& Y) override;
  void step_on(const arma::uvec& columns) override;
  void add_loss_sums(double& sum) override;
  void to_host() override;
  void from_host() override;
  void visit_optimizer_state(StateVisitor& v, const std::string& prefix) override { params_.visit_state(v, prefix); }
  Backend& backend() { return *b_; }
  const MoeLayer& layer() const { return *moe_; }
  // Expert parallelism: the whole model (every expert) on process 0, gathered from the processes
  // (collective); null on the others. Call after to_host().
  std::unique_ptr<SparseNet> whole();
  // Sparse upcycling: the embedding, output layer and the one FFN expert of a dense network (--model
  // sparse with 1 expert and no shared experts, either implementation) into this one, every expert a copy;
  // the router keeps its initialisation.
  void upcycle_from(Model& dense);

 private:
  // This process's share of N columns: [first, first + n) (the whole batch without expert parallelism).
  std::pair<std::size_t, std::size_t> share(std::size_t N) const;
  // A part (rows x n, this process's share) placed in the whole batch's rows x N on every process.
  arma::mat gather(const arma::mat& part, std::size_t N) const;
  void upload_batch(const arma::mat& X, const arma::mat* Y) const;  // this process's share of the batch
  // Before an evaluation: host copies written since the last sync (a loaded model file) go up first.
  void refresh() const;
  void take_step();  // forward, backward, the copies' gradients summed, the optimiser, the layer's step
  void forward(bool training) const;  // on the batch in X_
  void backward(bool log);  // task loss gradients scaled by 1 / batch_
  void task_loss(Tensor* dZ) const;  // loss_cols_ (and dZ) of Z_ against Y_, grad scale 1/N

  ModelSpec spec_;
  std::unique_ptr<Backend> b_;
  Communicator* comm_ = nullptr;
  mutable std::size_t batch_ = 0;  // the pass's whole batch (every process's columns)
  mutable BackendParams params_;  // mutable: const evaluation calls may upload host copies (refresh)
  std::size_t D_, d_, m_;
  Tensor W_in_, b_in_, W_out_, b_out_, dW_in_, db_in_, dW_out_, db_out_;
  std::unique_ptr<MoeLayer> moe_;  // built after the embedding is registered: the ParamList's order
  // Per-step activations and their gradients (reshaped to the batch; storage reused). Mutable: the
  // evaluation calls of Model are const but run the same forward pass.
  mutable Tensor X_, Y_, H0_, H1_, Z_, loss_cols_;
  Tensor dZ_, dH1_, dH0_;
  Tensor data_X_, data_Y_, batch_idx_;  // the training set on the backend (set_data), a batch's columns
  std::vector<std::uint64_t> data_ids_;  // hash routing: the training set's token ids
  // Per step not yet read, 1 x 1 each: (mean task loss + weighted auxiliary losses) x columns. A pool:
  // the first step_losses_ are pending, the rest are kept for reuse.
  std::vector<Tensor> step_loss_;
  std::size_t step_losses_ = 0;
  Tensor& next_step_loss();  // a zeroed 1 x 1 of the pool, now pending
};

}  // namespace moe
