#include "moe/gates/gaussian_gate.hpp"

#include <algorithm>
#include <cmath>

#include "moe/core/error.hpp"
#include "moe/core/math.hpp"
#include "moe/gates/gate_registry.hpp"

namespace moe {

GaussianGate::GaussianGate(arma::uword inputs, arma::uword experts)
    : alpha_(experts, 1, arma::fill::zeros),
      means_(inputs, experts, arma::fill::zeros),
      log_var_(inputs, experts, arma::fill::zeros) {
  require(experts >= 1, "a gate needs at least one expert");
  require(inputs >= 1, "a Gaussian gate needs at least one input");
}

void GaussianGate::init(Rng& rng, double scale) {
  alpha_.zeros();
  means_ = rng.normal_matrix(means_.n_rows, means_.n_cols, scale > 0.0 ? scale : 1.0);
  log_var_.zeros();
}

void GaussianGate::collect(ParamList& params, const std::string& prefix) {
  params.add(prefix + "alpha", alpha_, dalpha_);
  params.add(prefix + "means", means_, dmeans_);
  params.add(prefix + "log_var", log_var_, dlog_var_);
}

arma::vec GaussianGate::mixing() const { return softmax_cols(alpha_); }

arma::mat GaussianGate::logits(const arma::mat& X) const {
  const arma::uword K = experts(), d = inputs(), N = X.n_cols;
  require(X.n_rows == d, "Gaussian gate: inputs have " + std::to_string(X.n_rows) + " rows, expected " +
                             std::to_string(d));
  const arma::vec log_a = log_softmax_cols(alpha_);
  const arma::mat prec = arma::exp(-log_var_);  // d x K
  arma::mat Z(K, N);
  for (arma::uword j = 0; j < K; ++j) {
    // log N(x; m, S) = -0.5 [d log 2pi + sum log var + sum (x - m)^2 / var]
    const double c = log_a[j] - 0.5 * (double(d) * log_2pi + arma::accu(log_var_.col(j)));
    arma::mat D = X.each_col() - means_.col(j);
    Z.row(j) = c - 0.5 * (prec.col(j).t() * arma::square(D));
  }
  return Z;
}

arma::rowvec GaussianGate::log_input_density(const arma::mat& X) const { return logsumexp_cols(logits(X)); }

void GaussianGate::accumulate_grad(const arma::mat& X, const arma::mat& G) {
  // z_jn = alpha_j - lse(alpha) - 0.5 sum_d [log 2pi + v_dj + (x_dn - m_dj)^2 exp(-v_dj)]
  // dz_jn/dalpha_k = [j == k] - a_k;  dz_jn/dm_dj = (x_dn - m_dj) exp(-v_dj);
  // dz_jn/dv_dj = -0.5 + 0.5 (x_dn - m_dj)^2 exp(-v_dj).
  const arma::vec a = mixing();
  const arma::vec row_sums = arma::sum(G, 1);
  dalpha_ += row_sums - a * arma::accu(row_sums);
  const arma::mat prec = arma::exp(-log_var_);
  for (arma::uword j = 0; j < experts(); ++j) {
    const arma::mat D = X.each_col() - means_.col(j);  // d x N
    const arma::rowvec g = G.row(j);
    const arma::vec s1 = D * g.t();                   // sum_n g_n (x_n - m)
    const arma::vec s2 = arma::square(D) * g.t();     // sum_n g_n (x_n - m)^2
    dmeans_.col(j) += prec.col(j) % s1;
    dlog_var_.col(j) += -0.5 * row_sums[j] + 0.5 * prec.col(j) % s2;
  }
}

void GaussianGate::em_fit(const arma::mat& X, const arma::mat& H, const arma::rowvec& w, const EmOptions& o) {
  require(o.gate_fit == "irls", "the Gaussian gate's M-step is in closed form: --gate-fit " + o.gate_fit +
                                    " applies to the linear gate only");
  fit(X, H, w);
}

void GaussianGate::fit(const arma::mat& X, const arma::mat& H, const arma::rowvec& w) {
  const arma::uword K = experts(), d = inputs();
  require(X.n_rows == d && H.n_rows == K && H.n_cols == X.n_cols && w.n_elem == X.n_cols,
          "Gaussian gate fit: inconsistent shapes");
  const double total = arma::accu(w);
  if (!(total > 0.0)) return;
  // Variance floor per input: a fraction of the data's own (w-weighted) variance.
  const arma::vec mean_all = X * w.t() / total;
  const arma::vec var_all = arma::square(X.each_col() - mean_all) * w.t() / total;
  const arma::vec floor = arma::clamp(variance_floor * var_all, 1e-12, arma::datum::inf);

  const arma::mat W = H.each_row() % w;  // K x N
  const arma::vec mass = arma::sum(W, 1);
  const double mass_total = arma::accu(mass);
  if (!(mass_total > 0.0)) return;
  for (arma::uword j = 0; j < K; ++j) {
    // a_j = mass_j / total; log of a floored value keeps alpha finite for an empty component.
    alpha_(j, 0) = std::log(std::max(mass[j] / mass_total, 1e-300));
    if (!(mass[j] > 1e-12 * mass_total)) continue;  // (almost) empty: keep m_j, S_j
    const arma::vec m = X * W.row(j).t() / mass[j];
    const arma::vec v = arma::square(X.each_col() - m) * W.row(j).t() / mass[j];
    means_.col(j) = m;
    log_var_.col(j) = arma::log(arma::max(v, floor));
  }
}

namespace {
const GateRegistration registered{{
    .name = "gaussian",
    .help = "localised gate g_j(x) proportional to a_j N(x; m_j, S_j) (Xu, Jordan & Hinton 1995); closed-form EM "
            "M-step in a flat mixture, gradient training in an hme or meta-pi",
    .models_inputs = true,
    .make = [](arma::uword inputs, arma::uword experts) -> std::unique_ptr<Gate> {
      return std::make_unique<GaussianGate>(inputs, experts);
    },
}};
}  // namespace

}  // namespace moe
