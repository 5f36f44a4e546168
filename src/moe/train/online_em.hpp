#pragma once
// On-line EM for a hierarchical mixture of linear-Gaussian experts (Jordan & Jacobs 1994, on-line
// algorithm): one observation at a time, compute the posteriors at every node, then
//   expert j:  weighted recursive least squares with weight h_j (the leaf posterior) and forgetting
//              factor lambda on [W b]; its variances as an exponentially forgotten weighted average;
//   gate g:    recursive least squares of its logits on the (centred) log conditional posteriors of its
//              children, weighted by the posterior of reaching the gate (the on-line form of Algorithm 2).
// lambda starts at lambda0 and, every `every` observations, moves `move` of its remaining gap to 1.
// Works on the model's ParamList ("gate<g>/V", "gate<g>/c", "expert<j>/W", "expert<j>/b", ".../log_var").
#include <armadillo>
#include <vector>

#include "moe/core/rng.hpp"
#include "moe/core/state.hpp"
#include "moe/models/hierarchical.hpp"

namespace moe {

struct OnlineOptions {
  double lambda0 = 0.99;
  std::size_t every = 1000;
  double move = 0.6;
  double initial_inverse = 100.0;  // RLS matrices start as this times the identity (weak prior)
  void validate() const;
};

class OnlineHmeRls {
 public:
  OnlineHmeRls(HierarchicalMixture& model, arma::uword inputs, const OnlineOptions& options);
  // One pass over the columns of X (d x N), Y (m x N) in a random order from rng.
  void epoch(const arma::mat& X, const arma::mat& Y, Rng& rng);
  double lambda() const { return lambda_; }
  // RLS matrices, forgotten masses, lambda and its schedule's position, for checkpoints.
  void visit_state(StateVisitor& v, const std::string& prefix) {
    v.matrices(prefix + "gate_P", gate_P_);
    v.matrices(prefix + "expert_P", expert_P_);
    v.reals(prefix + "expert_mass", expert_mass_);
    v.real(prefix + "lambda", lambda_);
    v.size(prefix + "steps", steps_);
  }

 private:
  void observe(const arma::vec& x, const arma::vec& y);
  // Weighted RLS step: theta (rows x (d+1)) += err * k', P updated; returns false when skipped.
  bool rls(arma::mat& theta_W, arma::mat& theta_b, arma::mat& P, const arma::vec& xt, const arma::vec& err,
           double weight) const;

  HierarchicalMixture& model_;
  OnlineOptions options_;
  ParamList params_;
  // Looked up once by name: the per-observation loop must not build strings.
  struct GateParams { arma::mat *V, *c; };
  struct ExpertParams { arma::mat *W, *b, *log_var; };  // log_var null with fixed variances
  std::vector<GateParams> gate_params_;
  std::vector<ExpertParams> expert_params_;
  std::vector<arma::mat> gate_P_, expert_P_;  // (d+1) x (d+1) inverse-covariance-like RLS matrices
  std::vector<double> expert_mass_;           // forgotten sum of weights, for the variances
  double lambda_;
  std::size_t steps_ = 0;
};

}  // namespace moe
