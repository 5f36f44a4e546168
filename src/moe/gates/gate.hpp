#pragma once
// The gate interface of a flat mixture: K x N "logits" whose column softmax is the gate g(x), their
// gradient, and the gate's EM M-step. Two gates implement it: LinearSoftmaxGate (g = softmax(V x + c),
// Jacobs et al. 1991) and GaussianGate (g_j ∝ a_j N(x; m_j, S_j), Xu, Jordan & Hinton 1995).
#include <armadillo>
#include <memory>
#include <string>

#include "moe/core/math.hpp"
#include "moe/core/params.hpp"
#include "moe/core/rng.hpp"
#include "moe/fit/em.hpp"

namespace moe {

class Gate {
 public:
  virtual ~Gate() = default;
  virtual std::string kind() const = 0;  // "linear" | "gaussian"
  virtual void init(Rng& rng, double scale = 0.0) = 0;
  virtual void collect(ParamList& params, const std::string& prefix) = 0;

  // X: d x N -> K x N; g(x) = column softmax of the logits.
  virtual arma::mat logits(const arma::mat& X) const = 0;
  arma::mat probabilities(const arma::mat& X) const { return column_softmax(logits(X)).prob; }
  arma::mat log_probabilities(const arma::mat& X) const { return column_softmax(logits(X)).log_prob; }
  // 1 x N log density of the inputs the gate models: log sum_j a_j N(x; m_j, S_j) for the Gaussian
  // gate; 0 for a conditional gate (the linear gate models no p(x)).
  virtual arma::rowvec log_input_density(const arma::mat& X) const { return arma::zeros<arma::rowvec>(X.n_cols); }
  // grads += dL/dtheta given dL/dlogits (K x N).
  virtual void accumulate_grad(const arma::mat& X, const arma::mat& dlogits) = 0;
  // The gate's EM M-step towards posteriors H (K x N) with per-point weights w (1 x N).
  virtual void em_fit(const arma::mat& X, const arma::mat& H, const arma::rowvec& w, const EmOptions& options) = 0;

  virtual arma::uword inputs() const = 0;
  virtual arma::uword experts() const = 0;
};

// A registered gate (moe/gates/gate_registry.hpp: gate_entry(kind).make).
std::unique_ptr<Gate> make_gate(const std::string& kind, arma::uword inputs, arma::uword experts);

}  // namespace moe
