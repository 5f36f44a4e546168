#pragma once
// A model that trains on a compute backend takes whole optimiser
// steps itself (forward, backward and the update in the backend's memory); the trainer hands it batches
// and reads its loss once an epoch. Its collect_state() matrices are host copies, refreshed by to_host()
// and written back by from_host().
#include <armadillo>

#include <string>

#include "moe/backend/backend_params.hpp"
#include "moe/core/state.hpp"

namespace moe {

class BackendTraining {
 public:
  virtual ~BackendTraining() = default;
  virtual void start(const BackendOptimizer& optimizer) = 0;      // before the first step
  virtual void step(const arma::mat& X, const arma::mat& Y) = 0;  // one optimiser step on a batch
  // The training set, uploaded once (d x N, m x N); then step_on(columns) gathers each minibatch on the
  // backend instead of the host gathering and uploading it.
  virtual void set_data(const arma::mat& X, const arma::mat& Y) = 0;
  virtual void step_on(const arma::uvec& columns) = 0;
  // Adds to sum, step by step in step order, each step's mean loss x columns since the last call (a run
  // stopped and resumed between steps adds the same numbers in the same order as one that was not).
  virtual void add_loss_sums(double& sum) = 0;
  virtual void to_host() = 0;
  virtual void from_host() = 0;
  // The optimiser's state in a checkpoint, as the host optimiser writes it (train/optimizer.hpp), from
  // the host copies of to_host() and back through from_host().
  virtual void visit_optimizer_state(StateVisitor& v, const std::string& prefix) = 0;
};

}  // namespace moe
