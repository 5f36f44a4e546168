#pragma once
// The EM capability of a model (flat mixtures and trees of experts). One step = E-step (posteriors in
// log space) + M-step (each expert by its weighted fit, each gate by IRLS on the posteriors, or by
// least squares on log posteriors: Jordan & Jacobs 1994 Algorithm 2).
#include <armadillo>
#include <string>

#include "moe/fit/irls.hpp"

namespace moe {

struct EmOptions {
  std::string gate_fit = "irls";   // irls | least-squares (Algorithm 2)
  bool hard = false;               // hard (Viterbi) EM: each point wholly to its most probable expert
  IrlsOptions irls;
  void validate() const;
};

class EmTrainable {
 public:
  virtual ~EmTrainable() = default;
  // One EM iteration on X (d x N), Y (m x N). Returns sum_n log p(y_n | x_n) at the parameters before
  // the step (the E-step computes it anyway); for hard EM, the Viterbi (complete-data) log-likelihood.
  virtual double em_step(const arma::mat& X, const arma::mat& Y, const EmOptions& options) = 0;
};

// Hard EM: replaces each column of the posteriors (K x N) by the one-hot of its argmax.
arma::mat harden(const arma::mat& posteriors);

// Hard MoE: given the log joint L = log prior + log p(y | x) (K x N) and its posteriors, returns the
// complete-data log-likelihood of each point's most probable expert (1 x N) and sets `hard` to the
// one-hot posteriors. The soft-mixture gradient formulas with `hard` in place of the posteriors are
// the gradient of this Viterbi objective.
arma::rowvec viterbi_log_joint(const arma::mat& L, const arma::mat& posteriors, arma::mat& hard);

}  // namespace moe
