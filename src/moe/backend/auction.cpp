#include "moe/backend/auction.hpp"

#include <algorithm>
#include <deque>
#include <limits>
#include <utility>

#include "moe/core/error.hpp"

namespace moe {

namespace {

// One auction phase at precision eps from the given prices (kept across phases: epsilon scaling).
// n = E * C persons (the T tokens, then dummies scoring 0 everywhere, so that persons and objects are
// equal in number and the epsilon-scaled auction stays within n * eps of the optimum from any prices).
// Each expert's slot prices sit in a min-heap: its cheapest slot is heap[0], the next cheapest one of
// heap[1], heap[2]; a bid raises heap[0] and sifts it down (O(log C)), so a bid costs O(E + log C).
void auction_phase(const arma::mat& A, std::size_t C, double eps, std::vector<std::vector<std::pair<double, std::size_t>>>& heaps,
                   std::vector<std::int32_t>& owner, std::vector<std::int32_t>& assigned) {
  const std::size_t E = A.n_rows, T = A.n_cols, n = E * C;
  constexpr double none = -std::numeric_limits<double>::infinity();
  auto greater = [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second > b.second); };
  std::fill(owner.begin(), owner.end(), -1);
  std::fill(assigned.begin(), assigned.end(), -1);
  std::deque<std::size_t> waiting;
  for (std::size_t p = 0; p < n; ++p) waiting.push_back(p);
  while (!waiting.empty()) {
    const std::size_t p = waiting.front();
    waiting.pop_front();
    double best = none, second = none;
    std::size_t best_e = 0;
    for (std::size_t e = 0; e < E; ++e) {
      const auto& h = heaps[e];
      const double a = p < T ? A(e, p) : 0.0;
      const double v = a - h[0].first;
      const double p2 = std::min(h.size() > 1 ? h[1].first : std::numeric_limits<double>::infinity(),
                                 h.size() > 2 ? h[2].first : std::numeric_limits<double>::infinity());
      const double v2 = a - p2;  // -inf with one slot
      if (v > best) {
        second = std::max(best, v2);
        best = v;
        best_e = e;
      } else {
        second = std::max(second, v);
      }
    }
    // Raise the price of the cheapest slot of the best expert so that p is indifferent, within eps, to its
    // second-best object; its previous owner bids again.
    auto& h = heaps[best_e];
    std::pop_heap(h.begin(), h.end(), greater);
    const std::size_t slot = h.back().second;
    h.back().first += (second == none ? 0.0 : best - second) + eps;
    std::push_heap(h.begin(), h.end(), greater);
    if (owner[slot] >= 0) {
      assigned[std::size_t(owner[slot])] = -1;
      waiting.push_back(std::size_t(owner[slot]));
    }
    owner[slot] = std::int32_t(p);
    assigned[p] = std::int32_t(best_e);
  }
}

}  // namespace

std::vector<std::int32_t> auction_assignment(const arma::mat& A, std::size_t capacity, double eps) {
  const std::size_t E = A.n_rows, T = A.n_cols, C = capacity;
  require(E >= 1 && C >= 1 && E * C >= T, "auction: experts x capacity must cover every token");
  require(eps > 0.0 && A.is_finite(), "auction: needs finite scores and a positive epsilon");
  if (T == 0) return {};
  std::vector<std::vector<std::pair<double, std::size_t>>> heaps(E);
  for (std::size_t e = 0; e < E; ++e)
    for (std::size_t j = 0; j < C; ++j) heaps[e].push_back({0.0, e * C + j});  // equal prices: a valid heap
  std::vector<std::int32_t> owner(E * C), assigned(E * C);
  // Epsilon scaling: phases at range/4, range/16, ... down to eps; each starts from the last prices, so
  // the price wars of a small eps are short.
  const double range = std::max(0.0, A.max()) - std::min(0.0, A.min());
  // A bid raises a price by at least eps; prices grow to about the range of the scores, and below their
  // rounding (range * 2e-16) an increment changes nothing and the auction would bid for ever (a saturated
  // router: scores of 1e12 against eps = 1e-4). So eps is at least relative_eps_floor times the range:
  // still within n * range * 1e-12 of the optimum.
  constexpr double relative_eps_floor = 1e-12;
  eps = std::max(eps, relative_eps_floor * range);
  for (double phase = range / 4.0; phase > eps; phase /= 4.0) auction_phase(A, C, phase, heaps, owner, assigned);
  auction_phase(A, C, eps, heaps, owner, assigned);
  assigned.resize(T);
  return assigned;
}

}  // namespace moe
