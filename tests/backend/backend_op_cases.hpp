#pragma once
// The backend op harness (in the spirit of ggml's test-backend-ops): every op of moe::Backend with the
// shapes it is checked at and its error bound per precision. Each case builds its inputs from a fixed
// seed on the host, runs the op on a backend and returns the outputs as host arrays; the CPU double
// backend is the oracle, and every other backend and precision must agree with it within the bound
// (test_backend_ops.cpp). Bounds are on the largest absolute difference divided by the largest oracle
// magnitude of that output (6e-8, about 2^-24, is float's rounding of the inputs themselves: the bound of
// ops that only move data); integer outputs (expert choices, plans) must match exactly, so the inputs of
// those cases keep the choices away from ties.
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "moe/backend/backend.hpp"

namespace moe::test {

struct HostArray {
  std::string name;
  std::vector<double> values;
  bool exact = false;  // integers: equal or wrong
};

struct OpCase {
  std::string op;           // the Backend member it checks
  std::string shape;        // what it runs at, for the failure message
  double bound_float = 0;   // against the oracle, float precision
  double bound_bf16 = 0;    // bf16 precision (matrix products round their operands to 8 bits)
  std::function<std::vector<HostArray>(Backend&)> run;
};

const std::vector<OpCase>& backend_op_cases();

// n normal draws of standard deviation `scale` from a fixed seed: the inputs of the cases and checks.
inline std::vector<double> randn(std::size_t n, std::uint64_t seed, double scale = 1.0) {
  std::mt19937_64 g(seed);
  std::normal_distribution<double> normal(0.0, scale);
  std::vector<double> v(n);
  for (double& x : v) x = normal(g);
  return v;
}

// Every op of the interface by name: the harness checks that each has a case.
const std::vector<std::string>& backend_op_names();

}  // namespace moe::test
