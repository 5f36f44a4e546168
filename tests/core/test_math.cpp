// The softmax helpers against closed forms and libm.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "moe/core/math.hpp"
#include "moe/core/rng.hpp"

using namespace moe;

TEST_CASE("math: exp_nonpositive is within 2 ulp of std::exp over its domain") {
  Rng rng(1);
  double worst = 0.0;
  for (int i = 0; i < 200000; ++i) {
    const double x = i < 1000 ? -745.0 * i / 1000.0 : -std::exp(rng.uniform() * 6.6 - 20.0) * (i % 2 ? 1 : 40);
    const double want = std::exp(x), got = exp_nonpositive(x);
    if (want < 1e-300) continue;  // subnormal range: checked below in absolute terms
    worst = std::max(worst, std::abs(got - want) / want);
  }
  CHECK(worst < 2.5 * std::numeric_limits<double>::epsilon());
  CHECK(exp_nonpositive(0.0) == 1.0);
  CHECK(exp_nonpositive(-std::numeric_limits<double>::infinity()) == 0.0);
  CHECK(exp_nonpositive(-800.0) == 0.0);
  CHECK(std::abs(exp_nonpositive(-740.0) - std::exp(-740.0)) < 1e-322);
  CHECK(std::isnan(exp_nonpositive(std::numeric_limits<double>::quiet_NaN())));
}

TEST_CASE("math: column_softmax matches the closed form, also for extreme and -inf logits") {
  arma::mat Z = {{0.0, 1000.0, -1e300, -arma::datum::inf}, {std::log(3.0), 999.0, -1e300, 0.0}};
  const ColumnSoftmax s = column_softmax(Z);
  CHECK(s.prob(0, 0) == doctest::Approx(0.25).epsilon(1e-15));
  CHECK(s.prob(1, 0) == doctest::Approx(0.75).epsilon(1e-15));
  CHECK(s.prob(0, 1) == doctest::Approx(1.0 / (1.0 + std::exp(-1.0))).epsilon(1e-15));
  CHECK(s.lse[1] == doctest::Approx(1000.0 + std::log1p(std::exp(-1.0))).epsilon(1e-15));
  CHECK(s.prob(0, 2) == doctest::Approx(0.5).epsilon(1e-15));
  CHECK(s.prob(0, 3) == 0.0);
  CHECK(s.prob(1, 3) == 1.0);
  CHECK(s.log_prob(1, 3) == 0.0);
  CHECK(s.prob.is_finite());
  CHECK(arma::approx_equal(arma::exp(s.log_prob.cols(0, 2)), s.prob.cols(0, 2), "reldiff", 1e-14));
}

TEST_CASE("math: log_positive is within 2 ulp of std::log on normal numbers") {
  Rng rng(2);
  double worst = 0.0;
  for (int i = 0; i < 200000; ++i) {
    // Softmax sums (1..64), the neighbourhood of 1 (where cancellation would show), and the whole range.
    const double x = i % 3 == 0 ? 1.0 + 63.0 * rng.uniform()
                     : i % 3 == 1 ? 1.0 + (rng.uniform() - 0.5) * std::exp(-30.0 * rng.uniform())
                                  : std::exp((rng.uniform() - 0.5) * 1400.0);
    const double want = std::log(x), got = log_positive(x);
    if (want == 0.0) {
      CHECK(got == 0.0);
      continue;
    }
    worst = std::max(worst, std::abs(got - want) / std::abs(want));
  }
  CHECK(worst < 2.0 * std::numeric_limits<double>::epsilon());
  CHECK(log_positive(1.0) == 0.0);
  CHECK(log_positive(2.0) == std::log(2.0));
  CHECK(log_positive(0.0) == -std::numeric_limits<double>::infinity());
  CHECK(std::isnan(log_positive(std::numeric_limits<double>::quiet_NaN())));
  CHECK(log_positive(std::numeric_limits<double>::max()) == doctest::Approx(std::log(std::numeric_limits<double>::max())).epsilon(1e-15));
  CHECK(log_positive(std::numeric_limits<double>::min()) == doctest::Approx(std::log(std::numeric_limits<double>::min())).epsilon(1e-15));
}

TEST_CASE("math: column_lse equals column_softmax's lse, also for -inf and extreme logits") {
  Rng rng(3);
  arma::mat Z = rng.normal_matrix(5, 1000, 30.0);
  Z(2, 7) = -arma::datum::inf;
  Z.col(9).fill(-arma::datum::inf);
  Z(0, 11) = 1000.0;
  arma::rowvec a = column_lse(Z);
  const arma::rowvec b = column_softmax(Z).lse;
  CHECK(a[9] == -arma::datum::inf);
  CHECK(b[9] == -arma::datum::inf);
  a.shed_col(9);
  arma::rowvec b2 = b;
  b2.shed_col(9);
  CHECK(arma::approx_equal(a, b2, "reldiff", 1e-15));
  const arma::mat big = rng.normal_matrix(40, 10);  // many rows: the column_softmax path
  CHECK(arma::approx_equal(column_lse(big), logsumexp_cols(big), "reldiff", 1e-14));
}
