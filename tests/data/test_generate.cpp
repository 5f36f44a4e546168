// generate_linear_mixture: shape, determinism and that y follows the true expert of each row.
#include <doctest/doctest.h>

#include "moe/data/generate.hpp"
#include "moe/data/spec.hpp"

using namespace moe;

TEST_CASE("generate: linear-mixture columns, determinism and consistency with the truth") {
  Rng a(1), b(1);
  LinearMixtureTruth truth;
  Table t = generate_linear_mixture(2000, 2, 4, 0.0, a, &truth);
  CHECK(t.columns == std::vector<std::string>{"x1", "x2", "y", "component"});
  CHECK(t.rows.size() == 2000);
  CHECK(generate_linear_mixture(2000, 2, 4, 0.0, b).rows == t.rows);
  CHECK(truth.gate_W.n_rows == 4);
  CHECK(truth.A.n_cols == 2);

  // With noise 0, y equals the true component's linear function exactly (%.17g round trip).
  Dataset ds = build_dataset(t, {{"x1", "x2"}, "y,component", Task::regression, {}, "", {}});
  arma::uvec used(4, arma::fill::zeros);
  double worst = 0;
  for (arma::uword i = 0; i < ds.n(); ++i) {
    const auto k = static_cast<arma::uword>(ds.Y(1, i));
    REQUIRE(k < 4);
    used[k]++;
    worst = std::max(worst, std::abs(ds.Y(0, i) - arma::dot(truth.A.row(k), ds.X.col(i)) - truth.b[k]));
  }
  CHECK(worst < 1e-12);
  CHECK(arma::all(used > 0));  // every expert owns some of the data with this seed
}
