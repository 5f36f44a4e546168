#pragma once
// Linear-softmax gate: g(x) = softmax(V x + c). Jacobs et al. 1991; the gate of every flat mixture.
#include <armadillo>
#include <string>

#include "moe/core/params.hpp"
#include "moe/core/rng.hpp"
#include "moe/fit/irls.hpp"
#include "moe/gates/gate.hpp"

namespace moe {

class LinearSoftmaxGate final : public Gate {
 public:
  LinearSoftmaxGate(arma::uword inputs, arma::uword experts);
  std::string kind() const override { return "linear"; }
  // Starts at zero (uniform gate): the experts' random weights break the symmetry.
  void init(Rng& rng, double scale = 0.0) override;
  void collect(ParamList& params, const std::string& prefix) override;  // prefix + "V", prefix + "c"

  arma::mat logits(const arma::mat& X) const override;  // X: d x N -> K x N
  // probabilities (K x N, columns sum to 1) and log_probabilities: from Gate.
  // grads += dL/dV, dL/dc given dL/dlogits (K x N).
  void accumulate_grad(const arma::mat& X, const arma::mat& dlogits) override;
  // EM M-step: fit (IRLS) or fit_least_squares below, as options.gate_fit says.
  void em_fit(const arma::mat& X, const arma::mat& H, const arma::rowvec& w, const EmOptions& options) override;
  // EM M-step: IRLS towards soft targets T (K x N) with per-point weights w (1 x N); never decreases
  // sum_n w_n sum_k T_kn log g_k(x_n).
  void fit(const arma::mat& X, const arma::mat& T, const arma::rowvec& w, const IrlsOptions& irls);
  // Algorithm 2 of Jordan & Jacobs (1994): least squares of the logits on log T, weighted by w.
  void fit_least_squares(const arma::mat& X, const arma::mat& T, const arma::rowvec& w);

  arma::uword inputs() const override { return V_.n_cols; }
  arma::uword experts() const override { return V_.n_rows; }

 private:
  arma::mat V_, c_;    // K x d, K x 1
  arma::mat dV_, dc_;
};

}  // namespace moe
