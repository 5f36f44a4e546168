#pragma once
// Scalar functions that the routers and every backend share, so that all compute them alike: free of
// Armadillo, usable in host and device code.
#include <cmath>
#include <cstdint>

namespace moe {

// log sigmoid(z) = -log(1 + exp(-z)), without overflow for large |z|.
template <class T>
inline T log_sigmoid(T z) {
  return z >= T(0) ? -std::log1p(std::exp(-z)) : z - std::log1p(std::exp(z));
}

// softplus(x) = log(1 + exp(x)), without overflow for large x.
template <class T>
inline T softplus(T x) {
  return x > T(0) ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

// The hash router's mix of a token id (the splitmix64 finaliser): every bit of the id moves the result.
inline std::uint64_t mix_token_id(std::uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace moe
