#pragma once
// WORK IN PROGRESS (branch backend-net): the sparse network of --model sparse written once against the
// compute backend (moe/backend/backend.hpp), so that its parameters, gradients and optimiser state stay
// in the backend's memory. It will replace models/sparse_net.* when it covers every router, expert
// parallelism, checkpoints and the routing log; until then it serves moe-bench train.
//   H0 = W_in X + b_in               D x N   (X: d x N inputs)
//   L  = W_r H0                      E x N   router logits; P = softmax(L), lse = logsumexp(L)
//   slots: top-k of L (topk, switch); weights from P (renormalised, or raw for switch)
//   H1 = H0 + sum_s w_s FFN_{e_s}(H0)        (routed FFN experts, capacity drops)
//   Z  = W_out H1 + b_out            m x N   softmax cross-entropy or squared error / 2
//   loss = mean task loss + switch_alpha Switch(L) + z_loss mean lse^2
// One training step (step()) is forward, backward and the optimiser's update, all backend ops; the
// host uploads the batch and reads nothing back (the step's loss is summed on the backend).
#include <armadillo>
#include <memory>
#include <string>
#include <vector>

#include "moe/backend/backend.hpp"
#include "moe/core/rng.hpp"
#include "moe/models/model_spec.hpp"
#include "moe/train/optimizer.hpp"

namespace moe {

class BackendSparseNet {
 public:
  BackendSparseNet(const ModelSpec& spec, std::unique_ptr<Backend> backend, const OptimizerOptions& optimizer);
  // The draws of SparseNet::init, in its order: W_in, W_out, the router, each expert's W1 and W2.
  void init(Rng& rng);
  // One training step on a batch: X d x N, Y m x N. The loss stays on the backend (loss_sum()).
  void step(const arma::mat& X, const arma::mat& Y);
  // The summed mean losses of the steps since the last call (task + weighted auxiliary), then zeroed:
  // the one read-back of an epoch.
  double take_loss_sum();
  Backend& backend() { return *b_; }

 private:
  struct Weights {
    Tensor W_in, b_in, W_r, W_out, b_out;
    ExpertBank experts;
  };
  // Every trainable tensor of a Weights in one order (the optimiser walks the lists in parallel).
  static std::vector<Tensor*> list(Weights& w);
  void allocate(Weights& w);
  void forward(std::size_t N);
  void backward(std::size_t N);
  void update();

  ModelSpec spec_;
  std::unique_ptr<Backend> b_;
  OptimizerOptions opt_;
  long steps_ = 0;
  std::size_t D_, F_, E_, k_, d_, m_;
  Weights w_, g_, m1_, m2_;  // parameters, gradients, Adam's moments (or the velocity in m1_)
  // Per-step activations and their gradients (reshaped to the batch; allocated once at the largest).
  Tensor X_, Y_, H0_, L_, P_, lse_, H1_, Z_, loss_cols_, dZ_, dH1_, dH0_, dL_, dw_;
  Tensor loss_sum_, switch_sum_, z_sum_;  // 1 x 1 sums over the steps: task loss, Switch loss, z-loss
  DevicePlan plan_;
  std::unique_ptr<OpCache> ffn_cache_;
};

}  // namespace moe
