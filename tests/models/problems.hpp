#pragma once
// Random problems shared by the model tests: X (d x N) standard normal; Y (m x N) one-hot classes, or a
// piecewise-linear regression target (|x_0| - x_1 plus noise) that gives experts something to split.
#include <armadillo>
#include <cstdint>

#include "moe/core/rng.hpp"

namespace moe::test {

struct Problem {
  arma::mat X, Y;
};

inline Problem make_problem(arma::uword d, arma::uword m, arma::uword n, bool classification, std::uint64_t seed) {
  Rng rng(seed);
  Problem p{rng.normal_matrix(d, n), arma::mat(m, n, arma::fill::zeros)};
  if (classification) {
    for (arma::uword j = 0; j < n; ++j) p.Y(rng.below(m), j) = 1.0;
  } else {
    p.Y = arma::repmat(arma::abs(p.X.row(0)) - p.X.row(1 % d), m, 1) + rng.normal_matrix(m, n, 0.2);
  }
  return p;
}

}  // namespace moe::test
