#include "moe/models/local_experts.hpp"

#include "moe/core/math.hpp"
#include "moe/experts/expert_registry.hpp"
#include "moe/core/error.hpp"
#include "moe/models/model_registry.hpp"

namespace moe {

LocalExpertsMixture::LocalExpertsMixture(const ModelSpec& spec) : spec_(spec) {
  spec_.validate();
  gate_ = make_gate(spec.gate, spec.inputs, spec.experts);
  const ExpertEntry& kind = expert_entry(spec.expert);
  for (arma::uword i = 0; i < spec.experts; ++i)
    experts_.push_back(kind.make(spec.inputs, spec.outputs, spec.learn_variance));
}

void LocalExpertsMixture::init(Rng& rng) {
  gate_->init(rng, spec_.gate_init_scale);
  for (auto& e : experts_) e->init(rng);
}

void LocalExpertsMixture::collect(ParamList& params) {
  gate_->collect(params, "gate/");
  for (std::size_t i = 0; i < experts_.size(); ++i) experts_[i]->collect(params, "expert" + std::to_string(i) + "/");
}

arma::mat LocalExpertsMixture::log_joint(const arma::mat& X, const arma::mat& Y, arma::mat L) const {
  const long K = long(experts_.size());
  // Each expert writes its own row: the result does not depend on the thread count.
#pragma omp parallel for schedule(static) if (K > 1 && X.n_cols >= 2048)
  for (long i = 0; i < K; ++i) L.row(i) += experts_[i]->log_likelihood(X, Y);
  return L;
}

arma::rowvec LocalExpertsMixture::pointwise_loss(const arma::mat& X, const arma::mat& Y) const {
  const arma::mat L = log_joint(X, Y, gate_->log_probabilities(X));
  if (!spec_.hard) return -column_softmax(L).lse;
  arma::mat hard;
  return -viterbi_log_joint(L, column_softmax(L).prob, hard);
}

double LocalExpertsMixture::loss(const arma::mat& X, const arma::mat& Y, bool accumulate_grad) {
  ColumnSoftmax gate = column_softmax(gate_->logits(X));
  // Softmax over experts of the log joint: prob = posteriors h (K x N), lse = log p(y | x).
  const arma::mat L = log_joint(X, Y, std::move(gate.log_prob));
  ColumnSoftmax joint = column_softmax(L);
  const double n = double(X.n_cols);
  double value = -arma::accu(joint.lse) / n;
  if (spec_.hard) {  // hard MoE: the most probable expert's complete-data loss alone
    arma::mat hard;
    value = -arma::accu(viterbi_log_joint(L, joint.prob, hard)) / n;
    joint.prob = std::move(hard);
  }
  if (!accumulate_grad) return value;

  const arma::mat& H = joint.prob;
  add_mass(H);
  gate_->accumulate_grad(X, (gate.prob - H) / n);
  const long K = long(experts_.size());
#pragma omp parallel for schedule(static) if (K > 1 && X.n_cols >= 2048)
  for (long i = 0; i < K; ++i) experts_[i]->accumulate_grad(X, Y, H.row(i) / n);
  return value;
}

double LocalExpertsMixture::em_step(const arma::mat& X, const arma::mat& Y, const EmOptions& o) {
  // The log joint up to a shift per column: logits + log p(y | x, expert) (K x N). The posteriors are its
  // column softmax, and the log-likelihood subtracts the logits' log-sum-exp (the gate's normaliser).
  arma::mat logits = gate_->logits(X);
  const double log_normaliser = arma::accu(column_lse(logits));
  const arma::mat L = log_joint(X, Y, std::move(logits));
  ColumnSoftmax joint = column_softmax(L, false);
  const bool hard = o.hard || spec_.hard;
  arma::mat H;  // K x N posteriors, one-hot for hard EM
  double loglik;
  if (hard) {  // hard EM improves the complete-data (Viterbi) likelihood: report that one
    loglik = arma::accu(viterbi_log_joint(L, joint.prob, H)) - log_normaliser;
  } else {
    loglik = arma::accu(joint.lse) - log_normaliser;
    H = std::move(joint.prob);
  }
  add_mass(H);
  const arma::rowvec ones(X.n_cols, arma::fill::ones);
  gate_->em_fit(X, H, ones, o);
  const long K = long(experts_.size());
#pragma omp parallel for schedule(dynamic) if (K > 1)
  for (long i = 0; i < K; ++i) experts_[i]->fit(X, Y, H.row(i), o.irls);
  return loglik;
}

void LocalExpertsMixture::add_mass(const arma::mat& H) {
  if (epoch_mass_.n_elem != H.n_rows) epoch_mass_.zeros(H.n_rows);
  epoch_mass_ += arma::sum(H, 1);
  epoch_points_ += double(H.n_cols);
}

void LocalExpertsMixture::end_step() {
  for (auto& e : experts_) e->project();
}

void LocalExpertsMixture::end_epoch(std::size_t epoch) {
  if (epoch_points_ > 0) warn_degenerate_experts(experts_, epoch_mass_, epoch_points_, epoch);
  epoch_mass_.zeros(experts_.size());
  epoch_points_ = 0;
}

Prediction LocalExpertsMixture::predict(const arma::mat& X) const {
  Prediction p;
  p.gate = gate_->probabilities(X);
  p.output.zeros(spec_.outputs, X.n_cols);
  if (spec_.hard) {  // only the expert with the largest gate probability answers
    const arma::urowvec best = arma::index_max(p.gate, 0);
    for (std::size_t i = 0; i < experts_.size(); ++i) {
      const arma::uvec mine = arma::find(best == i);
      if (!mine.empty()) p.output.cols(mine) = experts_[i]->predict(X.cols(mine));
    }
    return p;
  }
  for (std::size_t i = 0; i < experts_.size(); ++i) {
    arma::mat f = experts_[i]->predict(X);
    f.each_row() %= p.gate.row(i);
    p.output += f;
  }
  return p;
}

arma::mat LocalExpertsMixture::posterior(const arma::mat& X, const arma::mat& Y) const {
  return column_softmax(log_joint(X, Y, gate_->log_probabilities(X))).prob;
}

double LocalExpertsMixture::em_objective(const arma::mat& X, const arma::mat& Y) const {
  return -arma::accu(pointwise_loss(X, Y)) + arma::accu(gate_->log_input_density(X));
}

namespace {
const ModelRegistration registered{{
    .name = "mixture",
    .help = "adaptive mixture of local experts (Jacobs et al. 1991): a gate over K experts, likelihood p(y|x) = "
            "sum_j g_j(x) p_j(y|x); --expert, --gate, EM or gradient training",
    .flags = {"experts", "expert", "fixed-variance", "gate", "gate-init-scale", "hard"},
    .language_model = false,
    .validate = [](const ModelSpec& s) { s.validate_experts(); },
    .expert_count = [](const ModelSpec& s) { return s.experts; },
    .state_values =
        [](const ModelSpec& s) {  // gate V (or the Gaussian gate's means), experts
          const double d = double(s.inputs), m = double(s.outputs), K = double(s.experts);
          return K * d + K * expert_entry(s.expert).parameters(d, m);
        },
    .make = [](const ModelSpec& s) -> std::unique_ptr<Model> { return std::make_unique<LocalExpertsMixture>(s); },
}};
}  // namespace

}  // namespace moe
