#include "moe/models/hierarchical.hpp"

#include <cmath>

#include "moe/core/error.hpp"
#include "moe/core/math.hpp"
#include "moe/experts/expert_registry.hpp"
#include "moe/gates/gate_registry.hpp"
#include "moe/models/model_registry.hpp"

namespace moe {

namespace {
arma::uword power(arma::uword b, arma::uword e) {
  arma::uword r = 1;
  while (e--) r *= b;
  return r;
}
}  // namespace

HierarchicalMixture::HierarchicalMixture(const ModelSpec& spec)
    : spec_(spec), depth_(spec.depth), branching_(spec.branching) {
  spec_.validate();
  spec_.experts = spec_.expert_count();
  const arma::uword n_gates = (power(branching_, depth_) - 1) / (branching_ - 1);
  for (arma::uword g = 0; g < n_gates; ++g) gates_.push_back(make_gate(spec.gate, spec.inputs, branching_));
  gates_model_inputs_ = gate_entry(spec.gate).models_inputs;
  const ExpertEntry& kind = expert_entry(spec.expert);
  for (arma::uword j = 0; j < power(branching_, depth_); ++j)
    experts_.push_back(kind.make(spec.inputs, spec.outputs, spec.learn_variance));
}

arma::uword HierarchicalMixture::gate_index(arma::uword level, arma::uword node) const {
  return (power(branching_, level) - 1) / (branching_ - 1) + node;
}

void HierarchicalMixture::init(Rng& rng) {
  for (auto& g : gates_) g->init(rng, spec_.gate_init_scale);
  for (auto& e : experts_) e->init(rng);
}

void HierarchicalMixture::collect(ParamList& params) {
  for (std::size_t g = 0; g < gates_.size(); ++g) gates_[g]->collect(params, "gate" + std::to_string(g) + "/");
  for (std::size_t j = 0; j < experts_.size(); ++j) experts_[j]->collect(params, "expert" + std::to_string(j) + "/");
}

HierarchicalMixture::Forward HierarchicalMixture::forward(const arma::mat& X) const {
  Forward f;
  f.gate.resize(gates_.size());
  const long G = long(gates_.size());
#pragma omp parallel for schedule(static) if (G > 1 && X.n_cols >= 2048)
  for (long g = 0; g < G; ++g) f.gate[g] = column_softmax(gates_[g]->logits(X));
  // Level by level: log prior of node (l+1, b*i + c) = log prior (l, i) + log g_c(node (l, i)).
  arma::mat level(1, X.n_cols, arma::fill::zeros);
  for (arma::uword l = 0; l < depth_; ++l) {
    arma::mat next(level.n_rows * branching_, X.n_cols);
    for (arma::uword i = 0; i < level.n_rows; ++i)
      next.rows(i * branching_, i * branching_ + branching_ - 1) =
          f.gate[gate_index(l, i)].log_prob.each_row() + level.row(i);
    level = std::move(next);
  }
  f.log_prior = std::move(level);
  return f;
}

std::vector<arma::mat> HierarchicalMixture::levels_from_leaves(const arma::mat& leaf) const {
  std::vector<arma::mat> levels(depth_ + 1);
  levels[depth_] = leaf;
  for (arma::uword l = depth_; l-- > 0;) {
    const arma::mat& below = levels[l + 1];
    levels[l].zeros(below.n_rows / branching_, below.n_cols);
    for (arma::uword i = 0; i < levels[l].n_rows; ++i)
      levels[l].row(i) = arma::sum(below.rows(i * branching_, i * branching_ + branching_ - 1), 0);
  }
  return levels;
}

std::vector<arma::mat> HierarchicalMixture::node_priors(const arma::mat& X) const {
  return levels_from_leaves(arma::exp(forward(X).log_prior));
}

std::vector<arma::mat> HierarchicalMixture::node_posteriors(const arma::mat& X, const arma::mat& Y) const {
  return levels_from_leaves(posterior(X, Y));
}

namespace {
// K x N log joint of a forward pass and the experts' log-likelihoods (each expert its own row).
arma::mat add_log_likelihoods(arma::mat L, const std::vector<std::unique_ptr<Expert>>& experts, const arma::mat& X,
                              const arma::mat& Y) {
  const long K = long(experts.size());
#pragma omp parallel for schedule(static) if (K > 1 && X.n_cols >= 2048)
  for (long j = 0; j < K; ++j) L.row(j) += experts[j]->log_likelihood(X, Y);
  return L;
}
}  // namespace

arma::rowvec HierarchicalMixture::pointwise_loss(const arma::mat& X, const arma::mat& Y) const {
  const arma::mat L = add_log_likelihoods(forward(X).log_prior, experts_, X, Y);
  if (!spec_.hard) return -column_softmax(L).lse;
  arma::mat hard;
  return -viterbi_log_joint(L, column_softmax(L).prob, hard);
}

arma::mat HierarchicalMixture::posterior(const arma::mat& X, const arma::mat& Y) const {
  return column_softmax(add_log_likelihoods(forward(X).log_prior, experts_, X, Y)).prob;
}

double HierarchicalMixture::loss(const arma::mat& X, const arma::mat& Y, bool accumulate_grad) {
  const Forward f = forward(X);
  const arma::mat L = add_log_likelihoods(f.log_prior, experts_, X, Y);
  ColumnSoftmax joint = column_softmax(L);
  const double n = double(X.n_cols);
  double value = -arma::accu(joint.lse) / n;
  if (spec_.hard) {
    // Hard MoE: the loss of the most probable leaf alone; the gradient formulas below then hold with
    // the one-hot posteriors (they are the gradient of -log prior_k - log p_k).
    arma::mat hard;
    value = -arma::accu(viterbi_log_joint(L, joint.prob, hard)) / n;
    joint.prob = std::move(hard);
  }
  if (!accumulate_grad) return value;
  add_mass(joint.prob);
  const std::vector<arma::mat> h = levels_from_leaves(joint.prob);
  // Gate of node (l, i), child c: dloss/dz_c = (g_c h_node - h_child) / N.
  for (arma::uword l = 0; l < depth_; ++l) {
    for (arma::uword i = 0; i < h[l].n_rows; ++i) {
      const arma::uword g = gate_index(l, i);
      arma::mat dz = f.gate[g].prob.each_row() % h[l].row(i);
      dz -= h[l + 1].rows(i * branching_, i * branching_ + branching_ - 1);
      gates_[g]->accumulate_grad(X, dz / n);
    }
  }
  const long K = long(experts_.size());
#pragma omp parallel for schedule(static) if (K > 1 && X.n_cols >= 2048)
  for (long j = 0; j < K; ++j) experts_[j]->accumulate_grad(X, Y, joint.prob.row(j) / n);
  return value;
}

Prediction HierarchicalMixture::predict(const arma::mat& X) const {
  Prediction p;
  p.gate = arma::exp(forward(X).log_prior);  // leaves x N: path probabilities
  p.output.zeros(spec_.outputs, X.n_cols);
  if (spec_.hard) {  // only the most probable leaf's expert answers
    const arma::urowvec best = arma::index_max(p.gate, 0);
    for (std::size_t j = 0; j < experts_.size(); ++j) {
      const arma::uvec mine = arma::find(best == j);
      if (!mine.empty()) p.output.cols(mine) = experts_[j]->predict(X.cols(mine));
    }
    return p;
  }
  for (std::size_t j = 0; j < experts_.size(); ++j) {
    arma::mat f = experts_[j]->predict(X);
    f.each_row() %= p.gate.row(j);
    p.output += f;
  }
  return p;
}

double HierarchicalMixture::em_step(const arma::mat& X, const arma::mat& Y, const EmOptions& o) {
  const Forward f = forward(X);
  const arma::mat L = add_log_likelihoods(f.log_prior, experts_, X, Y);
  const ColumnSoftmax joint = column_softmax(L);
  arma::mat leaf;  // leaves x N posteriors, one-hot for hard EM
  double loglik;
  if (o.hard || spec_.hard) {  // hard EM improves the complete-data (Viterbi) likelihood: report that one
    loglik = arma::accu(viterbi_log_joint(L, joint.prob, leaf));
  } else {
    loglik = arma::accu(joint.lse);
    leaf = joint.prob;
  }
  add_mass(leaf);
  const std::vector<arma::mat> h = levels_from_leaves(leaf);
  // M-step, gates: node (l, i) learns the conditional posteriors h_child / h_node as soft targets,
  // each point weighted by h_node (Jordan & Jacobs 1994, eq. for the gating networks).
  const long G = long(gates_.size());
#pragma omp parallel for schedule(dynamic) if (G > 1)
  for (long g = 0; g < G; ++g) {
    arma::uword l = 0;
    while (gate_index(l + 1, 0) <= arma::uword(g)) ++l;
    const arma::uword i = arma::uword(g) - gate_index(l, 0);
    const arma::rowvec weight = h[l].row(i);
    arma::mat target = h[l + 1].rows(i * branching_, i * branching_ + branching_ - 1);
    target.each_row() /= arma::clamp(weight, 1e-300, arma::datum::inf);
    gates_[g]->em_fit(X, target, weight, o);
  }
  const long K = long(experts_.size());
#pragma omp parallel for schedule(dynamic) if (K > 1)
  for (long j = 0; j < K; ++j) experts_[j]->fit(X, Y, leaf.row(j), o.irls);
  return loglik;
}

void HierarchicalMixture::add_mass(const arma::mat& leaf) {
  if (epoch_mass_.n_elem != leaf.n_rows) epoch_mass_.zeros(leaf.n_rows);
  epoch_mass_ += arma::sum(leaf, 1);
  epoch_points_ += double(leaf.n_cols);
}

void HierarchicalMixture::end_step() {
  for (auto& e : experts_) e->project();
}

void HierarchicalMixture::end_epoch(std::size_t epoch) {
  if (epoch_points_ > 0) warn_degenerate_experts(experts_, epoch_mass_, epoch_points_, epoch);
  epoch_mass_.zeros(experts_.size());
  epoch_points_ = 0;
}

namespace {
const ModelRegistration registered{{
    .name = "hme",
    .help = "hierarchical mixture of experts (Jordan & Jacobs 1994): a tree of gates, --depth levels of --branching "
            "children, experts at the leaves; EM (linear gates), online EM or gradient training",
    .flags = {"expert", "fixed-variance", "gate", "gate-init-scale", "hard", "depth", "branching"},
    .language_model = false,
    .validate =
        [](const ModelSpec& s) {
          require(s.depth >= 1 && s.depth <= 12, "--depth must be between 1 and 12 (got " + std::to_string(s.depth) + ")");
          require(s.branching >= 2 && s.branching <= 64,
                  "--branching must be between 2 and 64 (got " + std::to_string(s.branching) + ")");
          double leaves = 1;
          for (arma::uword l = 0; l < s.depth; ++l) leaves *= double(s.branching);
          require(leaves <= 65536, "--branching^--depth is " + std::to_string(leaves) + " experts, more than 65536");
          ModelSpec tree = s;
          tree.experts = s.expert_count();
          tree.validate_experts();
        },
    .expert_count =
        [](const ModelSpec& s) {
          arma::uword k = 1;
          for (arma::uword l = 0; l < s.depth; ++l) k *= s.branching;
          return k;
        },
    .state_values =
        [](const ModelSpec& s) {  // gates b x d, experts
          const double d = double(s.inputs), m = double(s.outputs), b = double(s.branching);
          const double leaves = std::pow(b, double(s.depth));
          return (leaves - 1) / (b - 1) * b * d + leaves * expert_entry(s.expert).parameters(d, m);
        },
    .make = [](const ModelSpec& s) -> std::unique_ptr<Model> { return std::make_unique<HierarchicalMixture>(s); },
}};
}  // namespace

}  // namespace moe
