#pragma once
// Hierarchical mixture of experts (Jordan & Jacobs 1994): a tree of depth D and branching b, with a
// gate (--gate, any registered gate; linear-softmax by default) at each of the (b^D - 1) / (b - 1) inner nodes and an expert at each of the b^D
// leaves. p(y | x) = sum_leaves (product of gate probabilities on the path) p_leaf(y | x).
// Nodes are numbered level by level: the gate of node i at level l is gates_[(b^l - 1)/(b - 1) + i];
// its children are nodes b*i .. b*i + b - 1 of level l + 1; leaf j's child index at level l is
// (j / b^(D-l-1)) % b.
#include <memory>
#include <vector>

#include "moe/core/math.hpp"
#include "moe/experts/expert.hpp"
#include "moe/gates/gate.hpp"
#include "moe/models/model.hpp"

namespace moe {

class HierarchicalMixture final : public Model, public EmTrainable {
 public:
  explicit HierarchicalMixture(const ModelSpec& spec);
  const ModelSpec& spec() const override { return spec_; }
  void init(Rng& rng) override;
  void collect(ParamList& params) override;
  double loss(const arma::mat& X, const arma::mat& Y, bool accumulate_grad) override;
  arma::rowvec pointwise_loss(const arma::mat& X, const arma::mat& Y) const override;
  Prediction predict(const arma::mat& X) const override;
  arma::mat posterior(const arma::mat& X, const arma::mat& Y) const override;
  arma::uword experts() const override { return experts_.size(); }
  // EM: not with gates that model the inputs (the Gaussian gate), whose M-step fits p(x, child) at each node;
  // the products of such densities along the tree are no likelihood that EM would raise (gradient training
  // of the conditional likelihood works with any gate).
  EmTrainable* em() override { return gates_model_inputs_ ? nullptr : this; }
  double em_step(const arma::mat& X, const arma::mat& Y, const EmOptions& options) override;
  // After each gradient step: every expert back inside its constraints (variance floors).
  void end_step() override;
  // Warns (once per leaf) about experts that received no posterior mass in the epoch, or whose variance
  // sits at its floor.
  void end_epoch(std::size_t epoch) override;

  arma::uword depth() const { return depth_; }
  arma::uword branching() const { return branching_; }
  arma::uword gates() const { return gates_.size(); }
  // Node posteriors by level: level l is b^l x N (level 0 is all ones, level D are the leaves).
  std::vector<arma::mat> node_posteriors(const arma::mat& X, const arma::mat& Y) const override;
  // Node priors by level (products of gate probabilities from the root), same shapes.
  std::vector<arma::mat> node_priors(const arma::mat& X) const override;

 private:
  struct Forward {
    std::vector<ColumnSoftmax> gate;   // per gate: softmax of its logits, b x N
    arma::mat log_prior;               // leaves x N
  };
  Forward forward(const arma::mat& X) const;
  // Posteriors of every level from the leaf posteriors (leaves x N).
  std::vector<arma::mat> levels_from_leaves(const arma::mat& leaf) const;
  arma::uword gate_index(arma::uword level, arma::uword node) const;

  ModelSpec spec_;
  arma::uword depth_, branching_;
  std::vector<std::unique_ptr<Gate>> gates_;
  bool gates_model_inputs_ = false;
  std::vector<std::unique_ptr<Expert>> experts_;
  arma::vec epoch_mass_;      // leaves: posterior mass each expert received in this epoch's passes
  double epoch_points_ = 0;   // observations those passes saw
  void add_mass(const arma::mat& leaf);
};

}  // namespace moe
