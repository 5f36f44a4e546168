#pragma once
// What the backend tests of the routed sparse layer share (test_fast_cpu.cpp, test_cuda_backend.cpp): a
// routing case (sizes, capacity, which experts may be chosen), a random plan for it, conversions between
// element types, and the relative error of an output array against the reference.
#include <doctest/doctest.h>

#include <armadillo>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "moe/core/rng.hpp"
#include "moe/backend/ffn_activation.hpp"
#include "moe/backend/routing_plan.hpp"

namespace moe::test {

struct RoutingCase {
  std::string name;
  std::size_t tokens, experts, k, d, f;
  double capacity_factor;    // > 0: some slots dropped
  std::size_t experts_used;  // choices drawn from experts [0, experts_used): the rest stay empty
  FfnActivation activation = FfnActivation::relu;
};

// Random distinct experts per token from [0, experts_used), random positive weights, the case's capacity.
inline RoutingPlan random_plan(const RoutingCase& c, Rng& rng) {
  std::vector<std::int32_t> expert(c.tokens * c.k);
  std::vector<double> weight(c.tokens * c.k);
  std::vector<std::int32_t> pool(c.experts_used);
  for (std::size_t t = 0; t < c.tokens; ++t) {
    std::iota(pool.begin(), pool.end(), 0);
    for (std::size_t s = 0; s < c.k; ++s) {
      const std::size_t j = s + rng.below(pool.size() - s);
      std::swap(pool[s], pool[j]);
      expert[t * c.k + s] = pool[s];
      weight[t * c.k + s] = 0.1 + rng.uniform();
    }
  }
  const std::size_t capacity = expert_capacity(c.tokens, c.experts, c.k, c.capacity_factor);
  RoutingPlan plan = make_plan(c.tokens, c.experts, c.k, expert, weight, capacity);
  validate(plan);
  return plan;
}

// n values of any element type, as doubles.
template <class T>
arma::vec as_vec(const T* p, std::size_t n) {
  arma::vec v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = double(p[i]);
  return v;
}

// n doubles converted to T (float for the float kernels and the GPU).
template <class T>
std::vector<T> cast(const double* p, std::size_t n) {
  return std::vector<T>(p, p + n);
}

// |got - want| / |want| over a whole array (0 for an empty one); every element of got must be finite.
inline double relative_error(const arma::vec& got, const arma::vec& want) {
  REQUIRE(got.n_elem == want.n_elem);
  if (want.n_elem == 0) return 0.0;
  REQUIRE(got.is_finite());
  return arma::norm(got - want) / std::max(arma::norm(want), 1e-300);
}

inline double relative_error(const std::vector<float>& got, const arma::vec& want) {
  return relative_error(as_vec(got.data(), got.size()), want);
}

}  // namespace moe::test
