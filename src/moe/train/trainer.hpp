#pragma once
// Gradient training of any Model: full-batch or minibatch, any Optimizer, with early stopping on a
// validation set and stop-at-criterion (Jacobs et al. 1991: epochs until the training error <= c).
#include <armadillo>
#include <functional>
#include <string>
#include <vector>

#include "moe/core/rng.hpp"
#include "moe/core/state.hpp"
#include "moe/fit/em.hpp"
#include "moe/models/model.hpp"
#include "moe/train/online_em.hpp"
#include "moe/train/optimizer.hpp"

namespace moe {

struct TrainOptions {
  std::string method = "gradient";   // gradient | em (models with an EM capability: mixture, hme) |
                                     // online-em (hme of linear-gaussian experts, RLS; Jordan & Jacobs 1994)
  EmOptions em;
  OnlineOptions online;
  OptimizerOptions optimizer;
  std::size_t epochs = 1000;
  std::size_t batch_size = 0;        // 0 = full batch
  std::size_t patience = 0;          // early stopping: epochs without validation improvement; 0 = off
  std::string criterion_metric = "mse";  // loss | mse | error, measured on the training set
  double criterion = -1.0;           // stop when the metric <= criterion; < 0 = off
  bool stop_at_criterion = true;     // false: record the epoch reached but keep training
  double tolerance = 0.0;            // stop when the epoch's training loss changes by less than this
                                     // (relative to max(1, |loss|)); 0 = off
  // L2 penalty (l2 / 2) sum |W|^2 on the weight parameters (ParamKind::weight: the gates' and experts'
  // weight matrices, a network's layers), added to the mean training loss: a Gaussian prior N(0, I / (N l2))
  // on each weight. Gradient training adds its gradient; EM maximises the penalised likelihood (IRLS and
  // penalised least squares M-steps). 0 = off.
  double l2 = 0.0;
  // Divergence: training stops with a one-line moe::Error when an epoch's training loss is not finite, or
  // (gradient training) exceeds the first epoch's loss L1 by more than divergence_factor * max(1, |L1|),
  // or the training mse exceeds the untrained model's M0 by more than divergence_factor * max(1, M0) (a learned
  // variance can hold the loss while the mean runs away); 0 turns these growth checks off.
  double divergence_factor = 100.0;
  bool quiet = false;
  void validate(bool classification) const;
};

// One row per epoch; usage is K x epochs (mean gate probability on the training set).
struct History {
  std::vector<double> epoch, loss, train_metric, train_accuracy, valid_loss, valid_accuracy, seconds;
  arma::mat usage;
};

struct TrainResult {
  History history;
  long criterion_epoch = -1;  // first epoch (1-based) whose training metric met the criterion; -1 = never
  long best_epoch = -1;       // epoch of the best validation loss (early stopping), -1 without validation
  long converged_epoch = -1;  // epoch at which --tolerance stopped training; -1 = not converged
  bool stopped_early = false;
  double seconds = 0.0;       // wall time of the optimisation steps alone
  // Resumed from a checkpoint: the epoch it continued (1-based) and the rows of that epoch's minibatch
  // order done already; 0 and 0 for a fresh start.
  std::size_t resumed_epoch = 0, resumed_rows = 0;
};

// Where train() keeps checkpoints (moe/io/checkpoint.hpp writes them as HDF5 files). A checkpoint is
// everything train() needs to go on exactly as if it had not stopped: the model's state, the optimiser's,
// the generator's, the loop's position (epoch, and within a minibatch epoch the order and next batch)
// and the history so far.
class Checkpointer {
 public:
  virtual ~Checkpointer() = default;
  // Epochs between periodic checkpoints; 0: only when a stop is requested (moe/core/stop_request.hpp).
  virtual std::size_t every() const = 0;
  // Saves what `visit` names (it is called with a writing visitor), atomically: a kill mid-save leaves
  // the previous checkpoint.
  virtual void save(const std::function<void(StateVisitor&)>& visit) = 0;
  // Restores it (called with a reading visitor); false when there is no checkpoint to resume from.
  virtual bool restore(const std::function<void(StateVisitor&)>& visit) = 0;
  virtual std::string where() const = 0;  // for messages: the checkpoint's path
};

// X/Y: training data (d x N, m x N). valid_X may be empty (no validation set).
// With a checkpointer: resumes from its checkpoint when it has one, saves every every() epochs, and on a
// stop request saves and throws moe::Stopped after the step in progress (the caller writes no result).
// The resumed run ends with the same parameters, history and metrics as an uninterrupted run (the
// wall-clock seconds aside).
TrainResult train(Model& model, const arma::mat& X, const arma::mat& Y, const arma::mat& valid_X,
                  const arma::mat& valid_Y, bool classification, const TrainOptions& options, Rng& rng,
                  Checkpointer* checkpoint = nullptr);

}  // namespace moe
