#pragma once
// What the kernel tests of the routed experts share (test_fast_cpu.cpp, test_cuda_backend.cpp): a routing
// case (sizes, capacity, which experts may be chosen), a random plan for it, a bank of experts in the
// kernels' layout, the reference (per-token Armadillo products: the kernels' oracle), conversions between
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
#include "moe/backend/sparse_ffn_views.hpp"

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

// E FFN experts in the kernels' layout (sparse_ffn_views.hpp) in double: W1 f x (d E), b1 f x E, W2
// d x (f E), b2 d x E; random weights (N(0, 1/d), N(0, 1/f)) and nonzero biases.
struct HostBank {
  std::size_t d = 0, f = 0, experts = 0;
  FfnActivation activation = FfnActivation::relu;
  std::vector<double> W1, b1, W2, b2;
  kernels::ExpertWeights<double> weights() const { return {d, f, experts, W1.data(), b1.data(), W2.data(), b2.data()}; }
};

inline HostBank random_bank(std::size_t d, std::size_t f, std::size_t experts, FfnActivation activation, Rng& rng) {
  HostBank b{d, f, experts, activation, {}, {}, {}, {}};
  auto draw = [&](std::size_t n, double scale) {
    const arma::mat M = rng.normal_matrix(arma::uword(n), 1, scale);
    return std::vector<double>(M.begin(), M.end());
  };
  b.W1 = draw(f * d * experts, 1.0 / std::sqrt(double(d)));
  b.b1 = draw(f * experts, 0.5);
  b.W2 = draw(d * f * experts, 1.0 / std::sqrt(double(f)));
  b.b2 = draw(d * experts, 0.5);
  return b;
}

// Everything the routed experts give for one plan: outputs and input gradients (residual included),
// dL/d slot weight per slot (0 for empty and dropped slots), the experts' gradients in the bank's layout.
struct FfnResult {
  arma::vec Y, dX, dweight, dW1, db1, dW2, db2;
};

// The oracle: token by token, each kept slot's expert by Armadillo products.
inline FfnResult reference_ffn(const RoutingPlan& plan, const HostBank& b, const arma::mat& X, const arma::mat& dY) {
  const arma::uword d = arma::uword(b.d), f = arma::uword(b.f);
  arma::mat Y = X, dX = dY;
  FfnResult r;
  r.dweight.zeros(plan.slot_weight.size());
  arma::vec gW1(b.W1.size(), arma::fill::zeros), gb1(b.b1.size(), arma::fill::zeros),
      gW2(b.W2.size(), arma::fill::zeros), gb2(b.b2.size(), arma::fill::zeros);
  for (std::size_t t = 0; t < plan.tokens; ++t)
    for (std::size_t s = t * plan.k; s < (t + 1) * plan.k; ++s) {
      if (plan.slot_position[s] < 0) continue;
      const std::size_t e = std::size_t(plan.slot_expert[s]);
      const arma::mat W1(const_cast<double*>(b.W1.data()) + e * d * f, f, d, false, true),
          W2(const_cast<double*>(b.W2.data()) + e * d * f, d, f, false, true);
      const arma::vec b1(const_cast<double*>(b.b1.data()) + e * f, f, false, true),
          b2(const_cast<double*>(b.b2.data()) + e * d, d, false, true);
      const arma::vec x = X.col(arma::uword(t)), g = dY.col(arma::uword(t));
      const arma::vec pre = W1 * x + b1;
      arma::vec h(f), dact(f);
      for (arma::uword i = 0; i < f; ++i) h[i] = activate(b.activation, pre[i]), dact[i] = activation_derivative(b.activation, pre[i]);
      const arma::vec out = W2 * h + b2;
      const double w = plan.slot_weight[s];
      Y.col(arma::uword(t)) += w * out;
      r.dweight[s] = arma::dot(g, out);
      const arma::vec dout = w * g, dpre = (W2.t() * dout) % dact;
      arma::mat(gW2.memptr() + e * d * f, d, f, false, true) += dout * h.t();
      arma::vec(gb2.memptr() + e * d, d, false, true) += dout;
      arma::mat(gW1.memptr() + e * d * f, f, d, false, true) += dpre * x.t();
      arma::vec(gb1.memptr() + e * f, f, false, true) += dpre;
      dX.col(arma::uword(t)) += W1.t() * dpre;
    }
  r.Y = arma::vectorise(Y), r.dX = arma::vectorise(dX);
  r.dW1 = gW1, r.db1 = gb1, r.dW2 = gW2, r.db2 = gb2;
  return r;
}

}  // namespace moe::test
