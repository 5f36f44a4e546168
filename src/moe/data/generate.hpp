#pragma once
// Synthetic data with a known mixture-of-experts structure, for EM tests and benchmarks.
#include <armadillo>

#include "moe/core/rng.hpp"
#include "moe/data/csv.hpp"

namespace moe {

// The true model behind generate_linear_mixture (K experts, d inputs).
struct LinearMixtureTruth {
  arma::mat gate_W;  // K x d gate weights: p(k | x) = softmax(gate_W x + gate_b)
  arma::vec gate_b;  // K
  arma::mat A;       // K x d expert slopes: y = A.row(k) x + b[k] + noise * N(0, 1)
  arma::vec b;       // K
  double noise = 0;  // standard deviation of the expert noise
};

// n observations: x ~ N(0, I_d); component k ~ softmax(gate_W x + gate_b); y from linear expert k.
// Gate weights are N(0, 2^2) so the gate is fairly sharp, gate_b N(0, 0.5^2); A and b are N(0, 1).
// Columns: x1..xd, y, component (the true expert, 0..K-1). Numbers printed with %.17g (exact).
// Draw order is fixed (parameters, then per observation x, component, noise), so a seed fixes the
// table. `truth`, when given, receives the true parameters.
Table generate_linear_mixture(std::size_t n, std::size_t inputs, std::size_t experts, double noise, Rng& rng,
                              LinearMixtureTruth* truth = nullptr);

}  // namespace moe
