#pragma once
// Weighted multinomial logistic regression by IRLS (Newton steps), the M-step of every softmax gate and
// softmax expert (Jordan & Jacobs 1994). Maximises
//   Q(W, b) = sum_n w_n sum_c T(c, n) log softmax(W x_n + b)_c
// with X: d x N inputs, T: C x N soft targets (posteriors; columns need not sum to 1), w: 1 x N weights.
// Q does not change when every class's weights move together, so the Newton steps move the first C - 1
// classes and hold the last (no loss of generality; a smaller Hessian, non-singular along that
// direction). The Hessian is damped by `ridge` (for rank-deficient weighted inputs) but the objective is
// not penalised, and every accepted step increases Q (backtracking): so an EM step that uses this never
// decreases the likelihood (a generalised EM step).
#include <armadillo>

#include "moe/core/math.hpp"

namespace moe {

struct IrlsOptions {
  int max_iterations = 5;     // Newton steps per call (EM calls it once per M-step)
  double ridge = 1e-6;        // relative damping of the Hessian (times its mean diagonal, plus 1e-12)
  int max_halvings = 30;      // step halvings before a step is given up
  double tolerance = 1e-10;   // stop when the increase of Q, or the Newton decrement (the predicted
                              // increase), is below this times max(1, |Q|)
  double l2 = 0.0;            // penalty (l2 / 2) |W|^2 on the summed objective (EM sets it to N times the
                              // per-observation --l2 of the training loss)
};

// W: C x d, b: C x 1, updated in place. Returns Q - (l2 / 2) |W|^2 at the final parameters.
double irls_softmax(arma::mat& W, arma::mat& b, const arma::mat& X, const arma::mat& T, const arma::rowvec& w,
                    const IrlsOptions& options);

// Q(W, b) as above.
double softmax_objective(const arma::mat& W, const arma::mat& b, const arma::mat& X, const arma::mat& T,
                         const arma::rowvec& w);

}  // namespace moe
