#pragma once
// Random draws for routers that do not depend on the thread count: one 64-bit seed is taken from the
// caller's Rng per call, and each block of 256 tokens draws from its own stream of that seed
// (Rng::stream), so block b's numbers are the same whichever thread fills it.
#include <armadillo>
#include <cmath>
#include <cstdint>
#include <limits>

#include "moe/backend/scalar_functions.hpp"
#include "moe/core/error.hpp"
#include "moe/core/rng.hpp"

namespace moe {

// rows x T matrix of draws, column t from the stream of block t / 256; normal ? N(0,1) : U(0,1).
// offset: the tokens are columns [offset, offset + T) of a larger batch (a TokenShard): column t gets the
// batch's column offset + t, so the shards of a batch together draw exactly what the whole batch draws.
inline arma::mat token_draws(arma::uword rows, arma::uword T, Rng* rng, bool normal, arma::uword offset = 0) {
  require(rng != nullptr, "router: this router draws random numbers in training and needs an Rng");
  const std::uint64_t seed = rng->below(std::numeric_limits<std::uint64_t>::max());
  arma::mat out(rows, T);
  constexpr arma::uword block = 256;
  const arma::uword first = offset / block, end = offset + T;
  const long blocks = T == 0 ? 0 : long((end + block - 1) / block - first);
#pragma omp parallel for schedule(static) if (T >= 1024)
  for (long b = 0; b < blocks; ++b) {
    const arma::uword global_block = first + arma::uword(b);
    Rng stream = Rng(seed).stream(std::uint64_t(global_block));
    const arma::uword g0 = global_block * block, g1 = std::min<arma::uword>(end, g0 + block);
    for (arma::uword g = g0; g < g1; ++g)
      for (arma::uword i = 0; i < rows; ++i) {
        const double x = normal ? stream.normal() : stream.uniform();
        if (g >= offset) out(i, g - offset) = x;  // columns before the shard's first are drawn and skipped
      }
  }
  return out;
}

// The derivative of softplus (moe/backend/scalar_functions.hpp), 1 / (1 + e^-x), stable for any finite x.
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
