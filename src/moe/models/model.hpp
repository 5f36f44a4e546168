#pragma once
// The model interface every trainer, evaluator and writer works with.
// Observations are columns: X is d x N, Y is m x N (one-hot for classification).
#include <armadillo>
#include <memory>
#include <string>
#include <vector>

#include "moe/core/params.hpp"
#include "moe/core/rng.hpp"
#include "moe/core/state.hpp"
#include "moe/fit/em.hpp"
#include "moe/models/model_spec.hpp"
#include "moe/sparse/routing_stats.hpp"

namespace moe {

struct RoutingLog;  // moe/sparse/routing_log.hpp
class BackendTraining;  // moe/models/backend_training.hpp

struct Prediction {
  arma::mat output;  // m x N: E[y | x] (class probabilities for classification)
  arma::mat gate;    // K x N gate probabilities; empty for models without a gate
};

class Model {
 public:
  virtual ~Model() = default;
  virtual const ModelSpec& spec() const = 0;
  virtual void init(Rng& rng) = 0;
  // Registers every trainable matrix; names are stable and become HDF5 dataset names.
  virtual void collect(ParamList& params) = 0;
  // Every matrix that defines the model, trainable or not (frozen experts, fixed input maps): what
  // write_model saves and read_model loads. Defaults to collect().
  virtual void collect_state(ParamList& params) { collect(params); }

  // Mean loss over the N columns. With accumulate_grad, adds d(mean loss)/d(theta) to the gradients.
  virtual double loss(const arma::mat& X, const arma::mat& Y, bool accumulate_grad) = 0;
  // 1 x N per-observation loss (its mean is loss()).
  virtual arma::rowvec pointwise_loss(const arma::mat& X, const arma::mat& Y) const = 0;
  virtual Prediction predict(const arma::mat& X) const = 0;
  // K x N posterior responsibility of each expert given the targets; empty without experts.
  virtual arma::mat posterior(const arma::mat& /*X*/, const arma::mat& /*Y*/) const { return {}; }
  virtual arma::uword experts() const { return 0; }
  // Trees: per level l = 0..depth, the b^l x N probabilities of reaching each node (priors: gate
  // products from the root; posteriors: given the targets). Empty for models without a tree.
  virtual std::vector<arma::mat> node_priors(const arma::mat& /*X*/) const { return {}; }
  virtual std::vector<arma::mat> node_posteriors(const arma::mat& /*X*/, const arma::mat& /*Y*/) const { return {}; }
  // K x N gate probabilities alone (Prediction::gate without the m x N outputs, which for a language
  // model would be V x N); empty for models without a gate.
  virtual arma::mat gate(const arma::mat& X) const { return predict(X).gate; }
  // Non-null for models that EM can train.
  virtual EmTrainable* em() { return nullptr; }
  // Stacked mixtures (deep MoE): per layer l = 1..L, the K_l x N gate probabilities (layer 1's is also
  // Prediction::gate). Empty for models of one gate.
  virtual std::vector<arma::mat> layer_gates(const arma::mat& /*X*/) const { return {}; }
  // Called by the trainer after the updates of each epoch (1-based), before the epoch is evaluated:
  // the hook for training schedules kept by a model (deep MoE drops its balancing constraint).
  virtual void end_epoch(std::size_t /*epoch*/) {}
  // Called by the gradient trainer after each optimiser step (loss-free routing updates its bias).
  virtual void end_step() {}
  // Models with a sparse MoE layer: per-step routing metrics of training (/routing), and the balance of
  // each sparse layer on X in evaluation mode. Null / empty otherwise.
  virtual const RoutingLog* routing_log() const { return nullptr; }
  // Models that train on a compute backend take their optimiser steps themselves (backend_training.hpp);
  // null for the others.
  virtual BackendTraining* backend_training() { return nullptr; }
  virtual std::vector<RoutingStats> routing(const arma::mat& /*X*/) const { return {}; }
  // Training state that collect_state() does not hold (step counters, noise seeds, running sums, the
  // routing log): what a checkpoint needs besides the parameters to resume training exactly.
  virtual void visit_state(StateVisitor& /*v*/, const std::string& /*prefix*/) {}
};

std::unique_ptr<Model> make_model(const ModelSpec& spec);

}  // namespace moe
