#pragma once
// Random draws for routers that do not depend on the thread count: one 64-bit seed is taken from the
// caller's Rng per call, and each block of 256 tokens draws from its own stream of that seed
// (Rng::stream), so block b's numbers are the same whichever thread fills it.
#include <armadillo>
#include <cmath>
#include <cstdint>
#include <limits>

#include "moe/core/error.hpp"
#include "moe/core/rng.hpp"

namespace moe {

// rows x T matrix of draws, column t from the stream of block t / 256; normal ? N(0,1) : U(0,1).
inline arma::mat token_draws(arma::uword rows, arma::uword T, Rng* rng, bool normal) {
  require(rng != nullptr, "router: this router draws random numbers in training and needs an Rng");
  const std::uint64_t seed = rng->below(std::numeric_limits<std::uint64_t>::max());
  arma::mat out(rows, T);
  constexpr arma::uword block = 256;
  const long blocks = long((T + block - 1) / block);
#pragma omp parallel for schedule(static) if (T >= 1024)
  for (long b = 0; b < blocks; ++b) {
    Rng stream = Rng(seed).stream(std::uint64_t(b));
    const arma::uword t1 = std::min<arma::uword>(T, arma::uword(b + 1) * block);
    for (arma::uword t = arma::uword(b) * block; t < t1; ++t)
      for (arma::uword i = 0; i < rows; ++i) out(i, t) = normal ? stream.normal() : stream.uniform();
  }
  return out;
}

// log(1 + e^x) and its derivative 1 / (1 + e^-x), stable for any finite x.
inline double softplus(double x) { return x > 0.0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
inline double sigmoid(double x) {
  if (x >= 0.0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

// f applied to every entry of a copy of M.
template <class F>
arma::mat map_entries(const arma::mat& M, F f) {
  arma::mat out(arma::size(M));
  for (arma::uword i = 0; i < M.n_elem; ++i) out[i] = f(M[i]);
  return out;
}

}  // namespace moe
