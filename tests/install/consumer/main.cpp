// Built against an installed moekit (tests/install/consumer_test.sh: once through find_package(moekit),
// once through pkg-config). Fits y = 2.5 x - 1 exactly with the library's weighted least squares (Armadillo
// and LAPACK through libmoe.a) and prints the fit, the installed version and how many routers registered
// themselves (objects that only register are kept only if libmoe.a was linked whole) for the script to check.
#include <armadillo>
#include <cstdio>

#include "moe/core/build_info.hpp"
#include "moe/core/least_squares.hpp"
#include "moe/core/rng.hpp"
#include "moe/sparse/router_registry.hpp"

int main() {
  moe::Rng rng(7);
  const arma::mat X = rng.uniform_matrix(1, 64, -1.0, 1.0);
  const arma::mat Y = 2.5 * X - 1.0;
  const arma::rowvec w(X.n_cols, arma::fill::ones);
  arma::mat W, b;
  moe::weighted_least_squares(X, Y, w, W, b);
  std::printf("moekit %s: W=%.6f b=%.6f routers=%zu\n", moe::build::version, W(0, 0), b(0, 0),
              moe::RouterRegistry::instance().entries().size());
  return 0;
}
