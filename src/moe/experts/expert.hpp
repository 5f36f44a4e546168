#pragma once
// The expert interface: a conditional density p(y | x) with a point prediction.
// X: d x N inputs, Y: m x N targets (for classifiers Y is one-hot, or soft targets).
#include <armadillo>
#include <memory>
#include <string>
#include <vector>

#include "moe/core/params.hpp"
#include "moe/core/rng.hpp"
#include "moe/fit/irls.hpp"

namespace moe {

class Expert {
 public:
  virtual ~Expert() = default;
  virtual std::string kind() const = 0;
  virtual void init(Rng& rng) = 0;
  virtual void collect(ParamList& params, const std::string& prefix) = 0;

  // 1 x N: log p(y_n | x_n).
  virtual arma::rowvec log_likelihood(const arma::mat& X, const arma::mat& Y) const = 0;
  // m x N point prediction: E[y | x] (class probabilities for a classifier).
  virtual arma::mat predict(const arma::mat& X) const = 0;
  // grads += d/dtheta of  -sum_n w_n log p(y_n | x_n);  w: 1 x N (posteriors / N in a mixture).
  virtual void accumulate_grad(const arma::mat& X, const arma::mat& Y, const arma::rowvec& w) = 0;
  // The EM M-step: parameters that do not decrease sum_n w_n log p(y_n | x_n) (exact maximiser where
  // one exists in closed form, IRLS steps otherwise). An expert with (almost) no weight keeps its values.
  virtual void fit(const arma::mat& X, const arma::mat& Y, const arma::rowvec& w, const IrlsOptions& irls) = 0;

  // Puts the parameters back inside their constraints after a gradient step: a log-variance below its
  // floor goes back to the floor. (Below the floor the likelihood uses the floor, so the gradient there is
  // zero, and a parameter left below it would stay stuck whatever the data later asked for.)
  virtual void project() {}
  // The smallest variance the expert allows (0: no learnt variance) and whether a variance sits at it
  // (a degenerate fit: the points the expert explains fit it exactly: too few of them, or duplicates).
  virtual double variance_floor() const { return 0.0; }
  virtual bool at_variance_floor() const { return false; }
};

// An expert whose posterior weights sum to less than this over a training pass (a millionth of one
// observation) has left the model: nothing it explains moves its parameters any more.
inline constexpr double negligible_posterior_mass = 1e-6;

// Reports, once per expert (moe/core/warning.hpp), the experts of a mixture that received no posterior
// mass in the epoch (mass: K summed posteriors over `points` observations) and those whose variance sits
// at its floor. Called by the mixtures at the end of each training epoch.
void warn_degenerate_experts(const std::vector<std::unique_ptr<Expert>>& experts, const arma::vec& mass,
                             double points, std::size_t epoch);

}  // namespace moe
