#pragma once
// What a model needs around its sparse MoE layer, shared by every model that holds one (SparseNet, the
// language model with --moe-layer): training-mode routing noise of step n from Rng(seed).stream(n), so
// that repeated loss evaluations within one step agree (gradient checks) and runs reproduce; the per-step
// routing log; the loss-free bias update after each optimiser step; the bias saved as model state.
// The noise seed, step counter and log are not model parameters (evaluation routes without noise, so a
// reloaded model evaluates exactly); visit_state saves them in checkpoints so resumed training is exact.
// Expert parallelism (a Communicator): the log holds the batch's statistics (the same on every rank) and,
// per step, this rank's load and its time in collectives (rank_load, comm_seconds; not in checkpoints).
#include <optional>
#include <string>
#include <vector>

#include "moe/core/state.hpp"
#include "moe/sparse/routing_log.hpp"
#include "moe/sparse/sparse_moe_layer.hpp"

namespace moe {

class LayerInModel {
 public:
  LayerInModel(const SparseLayerSpec& spec, arma::uword experts, Communicator* expert_parallel = nullptr)
      : layer_(spec, experts, expert_parallel) {}
  void init(Rng& rng) {
    layer_.init(rng);
    noise_seed_ = rng.below(~std::uint64_t(0));
    step_ = 0;
  }
  void collect(ParamList& params, const std::string& prefix) { layer_.collect(params, prefix); }
  // The loss-free bias (state, not trained) as "<prefix>router/bias", when the router has one.
  void collect_state(ParamList& params, const std::string& prefix);

  // X: d_model x T; training: noise and random routing of the current step.
  MoeForward forward(const arma::mat& X, bool training, const std::vector<std::uint64_t>& ids = {}) const {
    Rng noise = Rng(noise_seed_).stream(step_);
    return layer_.forward(X, RouteContext{&noise, training, ids});
  }
  // Backward of a training step: logs its routing (expert parallelism: and this rank's load) and keeps
  // the pass for end_step.
  arma::mat backward(const arma::mat& X, MoeForward&& fwd, const arma::mat& dY) {
    arma::mat dX = layer_.backward(X, fwd, dY);
    log_.add(layer_.stats(fwd), fwd.aux);
    if (fwd.exchange) log_.rank_load.push_back(double(arma::accu(fwd.exchange->expert_tokens)));
    last_ = std::move(fwd);
    return dX;
  }
  // Expert parallelism: this rank's seconds in collectives during the step just logged (the model's
  // gradient sums included).
  void log_comm_seconds(double seconds) { log_.comm_seconds.push_back(seconds); }
  void end_step() {
    if (last_) layer_.end_step(*last_);
    last_.reset();
    ++step_;
  }

  // Called between steps only (no pending pass).
  void visit_state(StateVisitor& v, const std::string& prefix);

  SparseMoeLayer& layer() { return layer_; }
  const SparseMoeLayer& layer() const { return layer_; }
  const RoutingLog& log() const { return log_; }

 private:
  SparseMoeLayer layer_;
  std::uint64_t noise_seed_ = 1, step_ = 0;
  std::optional<MoeForward> last_;
  RoutingLog log_;
};

}  // namespace moe
