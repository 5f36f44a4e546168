#pragma once
// Gradient training of any Model: full-batch or minibatch, any Optimizer, with early stopping on a
// validation set and stop-at-criterion (Jacobs et al. 1991: epochs until the training error <= c).
#include <armadillo>
#include <string>
#include <vector>

#include "moe/core/rng.hpp"
#include "moe/models/em.hpp"
#include "moe/train/online_em.hpp"
#include "moe/models/model.hpp"
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
};

// X/Y: training data (d x N, m x N). valid_X may be empty (no validation set).
TrainResult train(Model& model, const arma::mat& X, const arma::mat& Y, const arma::mat& valid_X,
                  const arma::mat& valid_Y, bool classification, const TrainOptions& options, Rng& rng);

}  // namespace moe
