#pragma once
// The results file of one run (schema in README.md, "HDF5 results"). Every writer takes an open
// h5::File; the caller commits it, so a failure anywhere leaves no file behind.
#include <string>

#include "moe/data/dataset.hpp"
#include "moe/h5/hdf5.hpp"
#include "moe/models/model.hpp"
#include "moe/train/metrics.hpp"
#include "moe/train/trainer.hpp"

namespace moe {

// How a result was made: root attributes version, git_revision, build_flags, command_line, config (TOML),
// seed, created (UTC, ISO 8601), threads, device, program.
struct RunInfo {
  std::string program;       // "moe-train" | "moe-eval"
  std::string command_line;
  std::string config_toml;
  std::string config_file;   // the --config file read, if any: an input no output may replace (not recorded)
  std::uint64_t seed = 0;
  int threads = 0;
  std::string device = "cpu";
};
void write_run_info(h5::File& file, const RunInfo& info);

// /history: epoch, loss, train_metric (name in attribute 'criterion_metric'), train_accuracy,
// valid_loss, valid_accuracy, usage (K x epochs), seconds (wall time of the updates: the only dataset
// that is not a pure function of the seed); attributes criterion, criterion_epoch, best_epoch, stopped_early.
void write_history(h5::File& file, const TrainResult& result, const TrainOptions& options);

// /routing (models with a sparse MoE layer), one entry per training step: step (1-based), cv_importance,
// cv_load, max_mean_load, dropped_fraction (slots), dropped_token_fraction (tokens no routed expert
// processed: all slots dropped, or picked by no expert under expert choice), importance_loss, load_loss, switch_loss, z_loss (unweighted),
// aux_loss (weighted sum), importance and load (E x steps); attribute steps.
void write_routing(h5::File& file, const RoutingLog& log);
// <group>/routing of one split: importance, load (E); attributes cv_importance, cv_load, max_mean_load,
// dropped_fraction, dropped_token_fraction. Does nothing for models without a sparse layer.
void write_split_routing(h5::File& file, const std::string& group, const Model& model, const arma::mat& X);

// /eval/<split>: inputs (d x N, standardised as the model sees them; left out for data from a
// --feature-matrix, which stays in its file), targets (m x N), predictions (m x N), labels and predicted_labels (classification),
// gate (K x N), posterior (K x N), assignment (N: argmax gate), posterior_assignment (N), groups (N),
// usage (K); attributes loss, mse, accuracy, n, alive_experts. Stacked mixtures (deep MoE) add
// layer<l>/gate (K_l x N), layer<l>/assignment (N), layer<l>/usage (K_l) and the attribute layers, and
// have no posterior. Sparse models add routing/ (the split routed in one batch in evaluation mode):
// importance and load (E), attributes cv_importance, cv_load, max_mean_load, dropped_fraction.
// Every part also holds row_ids (N, uint64: Dataset::row_ids, where each observation came from).
Metrics write_eval(h5::File& file, const std::string& split, const Model& model, const Dataset& data);

// /eval/<split> of data without targets (moe-eval --predict-only): what needs no target, that is inputs,
// predictions, predicted_labels (classification), gate, assignment, usage, the trees' prior_mean, the
// stacked layers, routing, groups, row_ids and the attribute n; no targets, labels, posterior or metrics
// (loss, mse, accuracy). Returns the gate's usage (K; empty for models without a gate).
arma::vec write_predictions(h5::File& file, const std::string& split, const Model& model, const Dataset& data);

}  // namespace moe
