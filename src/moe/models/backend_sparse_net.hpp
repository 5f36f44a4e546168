#pragma once
// WORK IN PROGRESS (branch backend-net): the sparse network of --model sparse written once against the
// compute backend (moe/backend/backend.hpp), so that its parameters, gradients and optimiser state stay
// in the backend's memory. It will replace models/sparse_net.* when it covers every router, expert
// parallelism, checkpoints and the routing log.
//   H0 = W_in X + b_in               D x N   (X: d x N inputs)
//   L  = W_r H0                      E x N   router logits; P = softmax(L), lse = logsumexp(L)
//   slots: topk, switch: top-k of L, weights from P (renormalised, or raw for switch);
//          loss-free: top-k of P + bias, weights from P; sigmoid-topk: top-k of sigmoid(L) + bias,
//          weights from sigmoid(L); hash: a hash of each input column's bytes, weight 1 (no router weights)
//   H1 = H0 + sum_s w_s FFN_{e_s}(H0) + sum_j Shared_j(H0)   (routed FFN experts, capacity drops in
//                                                              training; always-on shared experts)
//   Z  = W_out H1 + b_out            m x N   softmax cross-entropy or squared error / 2
//   loss = mean task loss + w_importance CV(importance)^2 + switch_alpha Switch(L) + z_loss mean lse^2
//   after each step: the loss-free and sigmoid routers' bias update
// One training step (step()) is forward, backward and the optimiser's update, all backend ops; the
// host uploads the batch and reads nothing back (the losses are summed on the backend).
#include <armadillo>
#include <memory>
#include <string>
#include <vector>

#include "moe/backend/backend.hpp"
#include "moe/core/rng.hpp"
#include "moe/models/backend_training.hpp"
#include "moe/models/model.hpp"
#include "moe/sparse/routing_log.hpp"

namespace moe {

class BackendSparseNet final : public Model, public BackendTraining {
 public:
  BackendSparseNet(const ModelSpec& spec, std::unique_ptr<Backend> backend);
  // Model
  const ModelSpec& spec() const override { return spec_; }
  // The draws of SparseNet::init, in its order: W_in, W_out, the router, each expert's W1 and W2.
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
  // Every training step's routing statistics and auxiliary losses (/routing); the steps' sums stay on
  // the backend until asked for here.
  const RoutingLog* routing_log() const override;
  std::vector<RoutingStats> routing(const arma::mat& X) const override;  // evaluation-mode balance on X
  // Checkpoints: the optimiser's moments and step count and the routing log, through host copies (to_host
  // before saving; from_host after restoring).
  void visit_state(StateVisitor& v, const std::string& prefix) override;
  // BackendTraining
  void start(const BackendOptimizer& optimizer) override;
  void step(const arma::mat& X, const arma::mat& Y) override;
  void set_data(const arma::mat& X, const arma::mat& Y) override;
  void step_on(const arma::uvec& columns) override;
  double take_loss_sum() override;
  void to_host() override;
  void from_host() override;
  Backend& backend() { return *b_; }
  // Sparse upcycling: the embedding, output layer and the one FFN expert of a dense network (--model
  // sparse with 1 expert and no shared experts, either implementation) into this one, every expert a copy;
  // the router keeps its initialisation.
  void upcycle_from(Model& dense);

 private:
  struct Weights {
    Tensor W_in, b_in, W_r, W_out, b_out;
    Tensor W_noise;  // noisy-topk: E x D noise-scale weights (W_r is its W_g)
    ExpertBank experts;
    std::vector<Tensor> shared;  // shared expert j: W1 (f x D), b1 (f x 1), W2 (D x f), b2 (D x 1) at 4 j ...
  };
  enum class Scores { softmax, noisy, gshard, expert_choice, balanced, biased_softmax, biased_sigmoid, hash, soft };
  std::vector<Tensor*> list(Weights& w) const;  // the trained tensors (no router weights for hash)
  void collect_into(ParamList& params, bool state);
  void allocate(Weights& w);
  // The forward pass on the batch in X_ (N columns); training: capacity applies.
  void forward(std::size_t N, bool training) const;
  void backward(std::size_t N, bool log);  // log: keep the step's routing for routing_log()
  void update();
  RoutingStats stats_from_sums(const Tensor& sums) const;  // routing_counts' (3E + 2) sums as statistics
  void soft_masses(Tensor& importance, Tensor& load) const;  // soft MoE: each expert's combine and dispatch mass
  // Soft MoE (Puigcerver et al. 2023) in place of routing: logits Phi^T H0 (S x N, S = E p slots),
  // dispatch = softmax of each slot's row over the tokens, combine = softmax of each token's column over
  // the slots; slots = H0 dispatch^T run by expert j / p; H1 = H0 + outputs combine.
  void forward_soft(std::size_t N) const;
  void route_and_run(std::size_t N, bool training, FfnActivation act) const;  // every other router
  void backward_soft(std::size_t N, bool log);  // writes dH0 (residual included), the experts' and Phi's gradients
  void upload_batch(const arma::mat& X, const arma::mat* Y) const;
  void task_loss(std::size_t N, Tensor* dZ) const;  // loss_cols_ (and dZ) of Z_ against Y_, grad scale 1/N

  ModelSpec spec_;
  std::unique_ptr<Backend> b_;
  BackendOptimizer opt_;
  long steps_ = 0;
  std::size_t D_, F_, E_, k_, d_, m_, S_shared_;
  Scores scores_ = Scores::softmax;
  bool renormalize_ = true;
  Weights w_, g_, m1_, m2_;  // parameters, gradients, Adam's moments (the velocity in m1_)
  // Per-step activations and their gradients (reshaped to the batch; storage reused). Mutable: the
  // evaluation calls of Model are const but run the same forward pass.
  mutable Tensor X_, Y_, H0_, L_, P_, lse_, H1_, Z_, loss_cols_, dZ_, dH1_, dH0_, dL_, dw_;
  Tensor data_X_, data_Y_, batch_idx_;  // the training set on the backend (set_data), a batch's columns
  std::vector<std::uint64_t> data_ids_;  // hash routing: the training set's token ids
  Tensor loss_sum_;   // 1 x 1: sum over the steps of (mean task loss + weighted auxiliary losses) x columns
  Tensor aux_value_;  // 1 x 1: one auxiliary loss of the step
  Tensor bias_;       // E x 1: the selection bias of loss-free and sigmoid-topk
  mutable Tensor S_, ids_;
  mutable Tensor top2_, u_;
  // Soft MoE: the constant plan of its slots (slot j to expert j / p), the E x S grouping of slots by
  // expert, and the pass's tensors.
  DevicePlan soft_plan_;
  Tensor group_;
  mutable Tensor dispatch_, combine_, slots_, outs_;
  Tensor dslots_, douts_, dcombine_, ddispatch_;
  mutable std::vector<Tensor> pending_soft_;  // per step: importance (E x 1) then load (E x 1)            // gshard: each token's top 2 before the random drop; the draws
  mutable Tensor Nl_, eps_, Hn_, Pn_;  // noisy-topk: noise logits, draws, noisy logits, their softmax (E x N)
  Tensor dH_, dN_;                     // noisy-topk: gradients to the noisy and the noise logits
  mutable std::vector<Tensor> shared_pre_, shared_act_;  // per shared expert: f x N
  Tensor dact_, dpre_;                                   // f x N scratch of their backward  // sigmoid scores (E x N); hash routing's token ids (i64 N x 1)
  mutable DevicePlan plan_;
  mutable std::unique_ptr<OpCache> ffn_cache_;
  // Host copies of the parameters (collect), per expert as SparseNet names them, and zero gradients.
  arma::mat Win_, bin_, Wr_, Wout_, bout_, bias_host_, Wn_;
  // Training noise of step n from Rng(noise_seed_).stream(n), as SparseNet's layer draws it (the draws
  // are made on the host and uploaded: one E x N upload per noisy step).
  std::uint64_t noise_seed_ = 0, noise_step_ = 0;
  std::vector<arma::mat> W1_, b1_, W2_, b2_;
  std::vector<arma::mat> shared_host_;  // 4 per shared expert, in Weights::shared's order
  std::vector<arma::mat> host_grads_;  // the ParamList's gradients (collect), in its order
  std::vector<arma::mat> m1_host_, m2_host_;  // the optimiser's moments, in list() order (checkpoints)
  // Per training step not yet read: the routing sums ((3E + 2) x 1) and the unweighted auxiliary losses
  // (1 x 1 each: importance, load, Switch, z). routing_log() reads them into log_.
  mutable std::vector<Tensor> pending_sums_;
  mutable std::vector<std::vector<Tensor>> pending_aux_;
  mutable RoutingLog log_;
  bool has_bias_grad_ = false;          // a bias entry (collect_state) sits after the experts
};

}  // namespace moe
