#include "moe/sparse/smooth_load_loss.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "moe/core/error.hpp"
#include "moe/sparse/token_noise.hpp"
#include "moe/backend/topk.hpp"

namespace moe {

namespace {

// Per token the index j of kth_excluding(H, k, i) for each expert i (E x T, -1 when k >= E).
struct Thresholds {
  std::vector<std::int32_t> index;  // E*T, column-major like the logits
};

Thresholds thresholds(const arma::mat& H, std::size_t k) {
  const std::size_t E = H.n_rows, T = H.n_cols;
  Thresholds out;
  out.index.assign(E * T, -1);
  if (k >= E) return out;
  std::vector<std::int32_t> top(k + 1);
  for (std::size_t t = 0; t < T; ++t) {
    top_k_indices(H.colptr(t), E, k + 1, top.data());  // the same tie rule as the router's selection
    std::vector<char> in_top(E, 0);
    for (std::size_t r = 0; r < k; ++r) in_top[std::size_t(top[r])] = 1;
    for (std::size_t i = 0; i < E; ++i) out.index[t * E + i] = in_top[i] ? top[k] : top[k - 1];
  }
  return out;
}

// The noise's standard deviation softplus(W_noise x) underflows to exactly 0 when the noise logits are
// hugely negative (a saturated router: inputs at 1e6, or weights blown up); the load probability is then
// a step whose z = (logit - threshold) / sd is 0/0 or +-Inf, and its gradient NaN. The standard deviation
// is held at this floor instead, far below any logit difference that matters, so P is the step and its
// gradient 0 away from the threshold.
constexpr double min_noise_std = 1e-12;

double noise_std(double noise_logit) { return std::max(softplus(noise_logit), min_noise_std); }

void require_noisy(const Routing& r) {
  require(r.noise_logits.n_rows > 0 && r.noisy_logits.n_rows > 0 && r.plan.k >= 1,
          "smooth load loss: needs the routing of a noisy top-k router");
}

}  // namespace

arma::mat smooth_load_probabilities(const Routing& r) {
  require_noisy(r);
  const arma::mat& Z = r.logits;
  const std::size_t E = Z.n_rows, T = Z.n_cols;
  arma::mat P(E, T, arma::fill::ones);
  const Thresholds th = thresholds(r.noisy_logits, r.plan.k);
  for (std::size_t t = 0; t < T; ++t)
    for (std::size_t i = 0; i < E; ++i) {
      const std::int32_t j = th.index[t * E + i];
      if (j < 0) continue;
      const double z = (Z(i, t) - r.noisy_logits(arma::uword(j), t)) / noise_std(r.noise_logits(i, t));
      P(i, t) = 0.5 * std::erfc(-z / std::sqrt(2.0));
    }
  return P;
}

RouterLoss smooth_load_loss(const Routing& r, const TokenShard* shard) {
  require_noisy(r);
  const arma::mat &Z = r.logits, &N = r.noise_logits, &H = r.noisy_logits, &eps = r.noise;
  const std::size_t E = Z.n_rows, T = Z.n_cols;
  RouterLoss out;
  out.grad.dlogits.zeros(E, T);
  out.grad.dnoise_logits.zeros(E, T);
  const arma::mat P = smooth_load_probabilities(r);
  arma::vec load = P.n_cols > 0 ? arma::vec(arma::sum(P, 1)) : arma::vec(E, arma::fill::zeros);
  sum_over_shards(shard, load.memptr(), load.n_elem);
  arma::vec dload;
  out.value = cv_squared(load, &dload);
  const Thresholds th = thresholds(H, r.plan.k);
  constexpr double inv_sqrt_2pi = 0.39894228040143267794;
  for (std::size_t t = 0; t < T; ++t)
    for (std::size_t i = 0; i < E; ++i) {
      const std::int32_t j = th.index[t * E + i];
      if (j < 0) continue;
      const auto ju = arma::uword(j);
      const double sd = noise_std(N(i, t)), z = (Z(i, t) - H(ju, t)) / sd;
      const double dz = dload[i] * inv_sqrt_2pi * std::exp(-0.5 * z * z);  // dL/dz
      if (dz == 0.0) continue;  // far from the threshold: no gradient (and no 0 * Inf below)
      out.grad.dlogits(i, t) += dz / sd;
      out.grad.dnoise_logits(i, t) += -dz * z / sd * sigmoid(N(i, t));  // through sd(i, t)
      const double dthreshold = -dz / sd;                                // through H(j, t)
      out.grad.dlogits(ju, t) += dthreshold;
      out.grad.dnoise_logits(ju, t) += dthreshold * eps(ju, t) * sigmoid(N(ju, t));
    }
  return out;
}

}  // namespace moe
