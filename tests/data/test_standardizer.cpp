// Standardizer: training data maps to mean 0 / population std 1; constant features stay finite.
#include <doctest/doctest.h>

#include "data/data_test_util.hpp"
#include <cmath>

#include "moe/core/rng.hpp"
#include "moe/data/standardizer.hpp"

using namespace moe;

TEST_CASE("standardizer: mean 0 and population std 1 per feature") {
  Rng rng(11);
  arma::mat X = rng.normal_matrix(3, 500, 4.0);
  X.row(1) += 100.0;
  Standardizer s;
  s.fit(X);
  arma::mat Z = s.apply(X);
  CHECK(arma::abs(arma::mean(Z, 1)).max() < 1e-12);
  CHECK(arma::abs(arma::stddev(Z, 1, 1) - 1.0).max() < 1e-12);
  CHECK(arma::abs(s.invert(Z) - X).max() < 1e-10);
  CHECK(s.mean[1] == doctest::Approx(100.0).epsilon(0.05));
}

TEST_CASE("standardizer: constant feature gets scale max(1, |mean|) and no NaN, one observation") {
  arma::mat X = {{1, 2, 3, 4}, {5, 5, 5, 5}};
  Standardizer s;
  s.fit(X);
  CHECK(s.scale[1] == 5.0);
  CHECK(s.constant == std::vector<arma::uword>{1});
  arma::mat Z = s.apply(X);
  CHECK(Z.is_finite());
  CHECK(arma::all(Z.row(1) == 0));
  CHECK(s.scale[0] == doctest::Approx(std::sqrt(1.25)));

  s.fit(arma::mat(arma::vec{7.0, 8.0}));  // 2 x 1
  CHECK(arma::all(s.scale == arma::vec{7.0, 8.0}));
  CHECK(s.apply(arma::mat(arma::vec{7.0, 10.0}))(1, 0) == 0.25);
  s.fit(arma::mat(arma::vec{0.0, -0.5}));  // |mean| below 1: scale 1
  CHECK(arma::all(s.scale == 1.0));
}

TEST_CASE("standardizer: features at 1e-30 and 1e30 are standardised, and a constant 1e30 maps to 0, not rounding noise") {
  Rng rng(12);
  const arma::mat X = rng.normal_matrix(2, 200);
  for (double scale : {1e-30, 1e30}) {
    CAPTURE(scale);
    Standardizer unit, s;
    unit.fit(X);
    s.fit(X * scale);
    CHECK(s.constant.empty());
    CHECK(arma::approx_equal(s.apply(X * scale), unit.apply(X), "absdiff", 1e-12));
  }
  arma::mat C(1, 50);
  C.fill(1e30);
  C(0, 7) = std::nextafter(1e30, 2e30);  // rounding-level spread
  Standardizer s;
  s.fit(C);
  CHECK(s.constant == std::vector<arma::uword>{0});
  CHECK(arma::abs(s.apply(C)).max() <= 1e-15);
}

TEST_CASE("standardizer errors: no observations, wrong dimension") {
  Standardizer s;
  CHECK(moe::test::contains(moe::test::error_of([&] { s.fit(arma::mat(2, 0)); }), "0 observations"));
  s.fit(arma::mat(2, 3, arma::fill::ones));
  CHECK(moe::test::error_of([&] { s.apply(arma::mat(3, 1)); }) == "standardizer was fitted on 2 features, got 3");
}
