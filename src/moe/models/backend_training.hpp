#pragma once
// WORK IN PROGRESS (branch backend-net): a model that trains on a compute backend takes whole optimiser
// steps itself (forward, backward and the update in the backend's memory); the trainer hands it batches
// and reads its loss once an epoch. Its collect_state() matrices are host copies, refreshed by to_host()
// and written back by from_host().
#include <armadillo>

#include <string>

namespace moe {

// The optimiser the model runs on the backend (train/optimizer.hpp's options, which live a floor up).
struct BackendOptimizer {
  std::string name = "adam";  // adam | momentum | sgd
  double learning_rate = 1e-3, momentum = 0.9, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
};

class BackendTraining {
 public:
  virtual ~BackendTraining() = default;
  virtual void start(const BackendOptimizer& optimizer) = 0;      // before the first step
  virtual void step(const arma::mat& X, const arma::mat& Y) = 0;  // one optimiser step on a batch
  // The training set, uploaded once (d x N, m x N); then step_on(columns) gathers each minibatch on the
  // backend instead of the host gathering and uploading it.
  virtual void set_data(const arma::mat& X, const arma::mat& Y) = 0;
  virtual void step_on(const arma::uvec& columns) = 0;
  virtual double take_loss_sum() = 0;  // sum over the steps since the last call of mean loss x columns
  virtual void to_host() = 0;
  virtual void from_host() = 0;
};

}  // namespace moe
