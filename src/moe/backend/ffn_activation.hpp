#pragma once
// The FFN experts' activation, free of Armadillo so that every backend (CPU, CUDA) shares one
// definition: relu, or the exact gelu x Phi(x) (not the tanh approximation).
#include <cmath>
#include <string>

#include "moe/core/error.hpp"

namespace moe {

enum class FfnActivation { relu, gelu };

inline FfnActivation parse_ffn_activation(const std::string& name) {  // "relu" | "gelu"
  if (name == "relu") return FfnActivation::relu;
  if (name == "gelu") return FfnActivation::gelu;
  fail("unknown FFN activation '" + name + "' (expected relu or gelu)");
}

namespace activation_detail {
inline constexpr double inv_sqrt2 = 0.70710678118654752440;
inline constexpr double inv_sqrt_2pi = 0.39894228040143267794;
}  // namespace activation_detail

template <class T>
inline T activate(FfnActivation a, T x) {
  using namespace activation_detail;
  if (a == FfnActivation::relu) return x > T(0) ? x : T(0);
  return x * T(0.5) * std::erfc(-x * T(inv_sqrt2));
}

// d act / d x; gelu'(x) = Phi(x) + x phi(x).
template <class T>
inline T activation_derivative(FfnActivation a, T x) {
  using namespace activation_detail;
  if (a == FfnActivation::relu) return x > T(0) ? T(1) : T(0);
  return T(0.5) * std::erfc(-x * T(inv_sqrt2)) + x * T(inv_sqrt_2pi) * std::exp(T(-0.5) * x * x);
}

}  // namespace moe
