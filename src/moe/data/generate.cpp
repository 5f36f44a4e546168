#include "moe/data/generate.hpp"

#include <cstdio>
#include <string>

#include "moe/core/error.hpp"

namespace moe {

namespace {

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

Table generate_linear_mixture(std::size_t n, std::size_t inputs, std::size_t experts, double noise, Rng& rng,
                              LinearMixtureTruth* truth) {
  require(n > 0 && inputs > 0 && experts > 0, "linear-mixture needs n, inputs and experts all > 0");
  require(noise >= 0, "linear-mixture noise must be >= 0");
  LinearMixtureTruth t;
  t.gate_W = rng.normal_matrix(experts, inputs, 2.0);
  t.gate_b = rng.normal_matrix(experts, 1, 0.5);
  t.A = rng.normal_matrix(experts, inputs, 1.0);
  t.b = rng.normal_matrix(experts, 1, 1.0);
  t.noise = noise;

  Table table;
  table.source = "linear-mixture";
  for (std::size_t j = 0; j < inputs; ++j) table.columns.push_back("x" + std::to_string(j + 1));
  table.columns.push_back("y");
  table.columns.push_back("component");
  table.rows.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const arma::vec x = rng.normal_matrix(inputs, 1);
    // Softmax gate, shifted by the max for stability; sample k by inverting the CDF.
    arma::vec a = t.gate_W * x + t.gate_b;
    arma::vec p = arma::exp(a - a.max());
    p /= arma::accu(p);
    const double u = rng.uniform();
    std::size_t k = 0;
    for (double c = p[0]; k + 1 < experts && u >= c; c += p[++k]) {
    }
    const double y = arma::dot(t.A.row(k), x) + t.b[k] + noise * rng.normal();
    std::vector<std::string> row;
    row.reserve(inputs + 2);
    for (double v : x) row.push_back(num(v));
    row.push_back(num(y));
    row.push_back(std::to_string(k));
    table.rows.push_back(std::move(row));
  }
  if (truth) *truth = t;
  return table;
}

}  // namespace moe
