#include "moe/gates/linear_softmax_gate.hpp"

#include "moe/core/error.hpp"
#include "moe/core/least_squares.hpp"
#include "moe/core/math.hpp"
#include "moe/gates/gate_registry.hpp"

namespace moe {

LinearSoftmaxGate::LinearSoftmaxGate(arma::uword inputs, arma::uword experts)
    : V_(experts, inputs, arma::fill::zeros), c_(experts, 1, arma::fill::zeros) {
  require(experts >= 1, "a gate needs at least one expert");
}

void LinearSoftmaxGate::init(Rng& rng, double scale) {
  V_ = rng.normal_matrix(V_.n_rows, V_.n_cols, scale);
  c_.zeros();
}

void LinearSoftmaxGate::collect(ParamList& params, const std::string& prefix) {
  params.add(prefix + "V", V_, dV_, ParamKind::weight);
  params.add(prefix + "c", c_, dc_);
}

arma::mat LinearSoftmaxGate::logits(const arma::mat& X) const {
  arma::mat Z = V_ * X;
  Z.each_col() += c_.col(0);
  return Z;
}


void LinearSoftmaxGate::accumulate_grad(const arma::mat& X, const arma::mat& dlogits) {
  dV_ += dlogits * X.t();
  dc_ += arma::sum(dlogits, 1);
}

void LinearSoftmaxGate::em_fit(const arma::mat& X, const arma::mat& H, const arma::rowvec& w, const EmOptions& o) {
  if (o.gate_fit == "least-squares") fit_least_squares(X, H, w);
  else fit(X, H, w, o.irls);
}

void LinearSoftmaxGate::fit(const arma::mat& X, const arma::mat& T, const arma::rowvec& w, const IrlsOptions& irls) {
  irls_softmax(V_, c_, X, T, w, irls);
}

void LinearSoftmaxGate::fit_least_squares(const arma::mat& X, const arma::mat& T, const arma::rowvec& w) {
  // Targets: log posteriors, floored so an expert with zero posterior gives a finite target, and
  // centred per point (softmax logits are defined up to a shift).
  arma::mat Z = arma::log(arma::clamp(T, 1e-12, arma::datum::inf));
  Z.each_row() -= arma::mean(Z, 0);
  const arma::mat Xt = with_bias_row(X);
  const arma::mat Xw = Xt.each_row() % w;
  arma::mat A = Xw * Xt.t();
  A.diag() += 1e-10 * (arma::trace(A) / double(A.n_rows) + 1e-300);
  arma::mat coef;
  if (!arma::solve(coef, A, (Z * Xw.t()).t(), arma::solve_opts::likely_sympd)) return;
  V_ = coef.rows(0, X.n_rows - 1).t();
  c_ = coef.row(X.n_rows).t();
}

namespace {
const GateRegistration registered{{
    .name = "linear",
    .help = "g(x) = softmax(V x + c) (Jacobs et al. 1991); EM M-step by IRLS or least squares",
    .models_inputs = false,
    .make = [](arma::uword inputs, arma::uword experts) -> std::unique_ptr<Gate> {
      return std::make_unique<LinearSoftmaxGate>(inputs, experts);
    },
}};
}  // namespace

}  // namespace moe
