#include "moe/sparse/softmax_weights.hpp"

namespace moe {

namespace {
double normaliser(const double* p, const std::int32_t* norm, std::size_t k, bool renormalized) {
  if (!renormalized) return 1.0;
  double s = 0.0;
  for (std::size_t r = 0; r < k; ++r)
    if (norm[r] >= 0) s += p[norm[r]];
  return s;
}
}  // namespace

std::vector<double> softmax_slot_weights(const arma::mat& P, const std::vector<std::int32_t>& slot_expert,
                                         const std::vector<std::int32_t>& norm_expert, std::size_t k, bool renormalized) {
  const std::size_t T = P.n_cols;
  std::vector<double> w(T * k, 0.0);
  for (std::size_t t = 0; t < T; ++t) {
    const double* p = P.colptr(t);
    const double S = normaliser(p, norm_expert.data() + t * k, k, renormalized);
    for (std::size_t s = 0; s < k; ++s) {
      const std::int32_t e = slot_expert[t * k + s];
      if (e >= 0) w[t * k + s] = p[e] / S;
    }
  }
  return w;
}

arma::mat softmax_slot_weights_backward(const arma::mat& P, const std::vector<std::int32_t>& slot_expert,
                                        const std::vector<std::int32_t>& norm_expert, std::size_t k, bool renormalized,
                                        const arma::vec& dweight) {
  const std::size_t E = P.n_rows, T = P.n_cols;
  arma::mat dZ(E, T, arma::fill::zeros);
  if (dweight.is_empty()) return dZ;
  std::vector<double> dP(E);
  for (std::size_t t = 0; t < T; ++t) {
    const double* p = P.colptr(t);
    const std::int32_t* norm = norm_expert.data() + t * k;
    const double S = normaliser(p, norm, k, renormalized);
    std::fill(dP.begin(), dP.end(), 0.0);
    double gw = 0.0;  // sum_s g_s w_s
    for (std::size_t s = 0; s < k; ++s) {
      const std::int32_t e = slot_expert[t * k + s];
      if (e < 0) continue;
      const double g = dweight[t * k + s];
      dP[std::size_t(e)] += g / S;
      gw += g * p[e] / S;
    }
    if (renormalized)
      for (std::size_t r = 0; r < k; ++r)
        if (norm[r] >= 0) dP[std::size_t(norm[r])] -= gw / S;
    double dot = 0.0;
    for (std::size_t j = 0; j < E; ++j) dot += p[j] * dP[j];
    double* dz = dZ.colptr(t);
    for (std::size_t j = 0; j < E; ++j) dz[j] = p[j] * (dP[j] - dot);
  }
  return dZ;
}

}  // namespace moe
