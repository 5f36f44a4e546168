// Balanced assignment's auction (backend/auction.hpp) against brute force on small problems, capacities
// respected with ties and with every token wanting one expert, and against greedy assignment on a large one.
// (The balanced router itself: test_routers.cpp.)
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <tuple>

#include "moe/core/error.hpp"
#include "moe/backend/auction.hpp"
#include "moe/core/rng.hpp"
#include <armadillo>

using namespace moe;

namespace {

// Best total score over every assignment with at most C tokens per expert (exhaustive).
double brute_force_best(const arma::mat& A, std::size_t C) {
  const std::size_t E = A.n_rows, T = A.n_cols;
  std::vector<std::size_t> count(E, 0);
  std::function<double(std::size_t)> best_from = [&](std::size_t t) -> double {
    if (t == T) return 0.0;
    double best = -arma::datum::inf;
    for (std::size_t e = 0; e < E; ++e) {
      if (count[e] == C) continue;
      ++count[e];
      best = std::max(best, A(e, t) + best_from(t + 1));
      --count[e];
    }
    return best;
  };
  return best_from(0);
}

double total(const arma::mat& A, const std::vector<std::int32_t>& e) {
  double s = 0.0;
  for (std::size_t t = 0; t < e.size(); ++t) s += A(arma::uword(e[t]), t);
  return s;
}

void check_capacity(const std::vector<std::int32_t>& e, std::size_t E, std::size_t C) {
  std::vector<std::size_t> count(E, 0);
  for (const std::int32_t x : e) {
    REQUIRE(x >= 0);
    REQUIRE(std::size_t(x) < E);
    ++count[std::size_t(x)];
  }
  for (const std::size_t c : count) CHECK(c <= C);
}

}  // namespace

TEST_CASE("sparse auction: within E C eps of the brute-force optimum") {
  const double eps = 1e-6;
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    CAPTURE(seed);
    const std::size_t E = 3, T = seed % 2 ? 6 : 7, C = (T + E - 1) / E;
    const arma::mat A = Rng(seed).normal_matrix(E, T);
    const std::vector<std::int32_t> e = auction_assignment(A, C, eps);
    check_capacity(e, E, C);
    CHECK(total(A, e) >= brute_force_best(A, C) - double(E * C) * eps);
  }
}

TEST_CASE("sparse auction: ties and every token wanting one expert") {
  const std::size_t E = 4, T = 10, C = 3;
  const std::vector<std::int32_t> tie = auction_assignment(arma::mat(E, T, arma::fill::zeros), C, 1e-3);
  check_capacity(tie, E, C);
  CHECK(tie == auction_assignment(arma::mat(E, T, arma::fill::zeros), C, 1e-3));  // deterministic
  arma::mat A(E, T, arma::fill::zeros);
  A.row(1).fill(5.0);
  const std::vector<std::int32_t> one = auction_assignment(A, C, 1e-3);
  check_capacity(one, E, C);
  CHECK(std::count(one.begin(), one.end(), 1) == 3);  // expert 1 full, the rest spread
  CHECK_THROWS_AS(auction_assignment(A, 2, 1e-3), Error);  // 4 x 2 places for 10 tokens
}

TEST_CASE("sparse auction: at least as good as greedy capacitated assignment on a large problem") {
  // Optimum >= greedy, so the auction (within n eps of the optimum) must not fall below greedy - n eps.
  const std::size_t E = 16, T = 4096, C = T / E;
  const double eps = 1e-4;
  const arma::mat A = Rng(9).normal_matrix(E, T);
  const std::vector<std::int32_t> e = auction_assignment(A, C, eps);
  check_capacity(e, E, C);
  // Greedy: (score, expert, token) triples in decreasing score, each token to the first expert with room.
  std::vector<std::tuple<double, std::size_t, std::size_t>> triples;
  for (std::size_t t = 0; t < T; ++t)
    for (std::size_t x = 0; x < E; ++x) triples.emplace_back(A(x, t), x, t);
  std::sort(triples.rbegin(), triples.rend());
  std::vector<std::int32_t> greedy(T, -1);
  std::vector<std::size_t> count(E, 0);
  for (const auto& [score, x, t] : triples)
    if (greedy[t] < 0 && count[x] < C) {
      greedy[t] = std::int32_t(x);
      ++count[x];
    }
  CHECK(total(A, e) >= total(A, greedy) - double(E * C) * eps);
}
