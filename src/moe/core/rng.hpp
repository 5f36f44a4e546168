#pragma once
// Seeded random streams. Every random draw in the library goes through an Rng so that a seed fixes
// every number in a result file, whatever the thread count (Armadillo's global generator is never used).
#include <armadillo>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>

#include "moe/core/error.hpp"
#include "moe/core/state.hpp"

namespace moe {

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 42) : engine_(seed), seed_(seed) {}

  std::uint64_t seed() const { return seed_; }
  // An independent stream derived from this seed (e.g. one per run or per thread).
  Rng stream(std::uint64_t index) const { return Rng(mix(seed_ ^ mix(index + 0x9E3779B97F4A7C15ULL))); }

  double uniform() { return std::uniform_real_distribution<double>(0.0, 1.0)(engine_); }
  double normal() { return std::normal_distribution<double>(0.0, 1.0)(engine_); }
  std::uint64_t below(std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(engine_); }

  // rows x cols matrix of N(0, scale^2) draws, filled column by column.
  arma::mat normal_matrix(arma::uword rows, arma::uword cols, double scale = 1.0) {
    arma::mat m(rows, cols);
    for (double& v : m) v = scale * normal();
    return m;
  }
  arma::mat uniform_matrix(arma::uword rows, arma::uword cols, double lo, double hi) {
    arma::mat m(rows, cols);
    for (double& v : m) v = lo + (hi - lo) * uniform();
    return m;
  }
  // The generator's exact position (std::mt19937_64's text form) and seed, for checkpoints.
  void visit_state(StateVisitor& v, const std::string& name) {
    std::ostringstream out;
    out << engine_;
    std::string text = out.str();
    v.text(name + "/engine", text);
    v.count(name + "/seed", seed_);
    if (v.loading()) {
      std::istringstream in(text);
      in >> engine_;
      require(!in.fail(), "checkpoint entry " + name + "/engine is not a random-generator state");
    }
  }

  // A uniformly random permutation of 0..n-1 (Fisher-Yates).
  arma::uvec permutation(arma::uword n) {
    arma::uvec p = arma::regspace<arma::uvec>(0, n == 0 ? 0 : n - 1);
    if (n == 0) return arma::uvec();
    for (arma::uword i = n - 1; i > 0; --i) std::swap(p[i], p[below(i + 1)]);
    return p;
  }

 private:
  static std::uint64_t mix(std::uint64_t z) {  // splitmix64 finaliser
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  std::mt19937_64 engine_;
  std::uint64_t seed_;
};

}  // namespace moe
