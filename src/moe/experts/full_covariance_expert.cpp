#include "moe/experts/full_covariance_expert.hpp"

#include <cmath>

#include "moe/core/least_squares.hpp"
#include "moe/core/math.hpp"
#include "moe/experts/expert_registry.hpp"

namespace moe {

FullCovarianceExpert::FullCovarianceExpert(arma::uword inputs, arma::uword outputs)
    : W_(outputs, inputs, arma::fill::zeros), b_(outputs, 1, arma::fill::zeros), C_(outputs, outputs, arma::fill::zeros) {}

void FullCovarianceExpert::init(Rng& rng) {
  W_ = rng.normal_matrix(W_.n_rows, W_.n_cols, 1.0 / std::sqrt(double(W_.n_cols) + 1.0));
  b_ = rng.normal_matrix(b_.n_rows, 1, 0.5);
  C_.zeros();  // S = I
}

void FullCovarianceExpert::collect(ParamList& params, const std::string& prefix) {
  params.add(prefix + "W", W_, dW_, ParamKind::weight);
  params.add(prefix + "b", b_, db_);
  params.add(prefix + "chol", C_, dC_);
}

arma::mat FullCovarianceExpert::cholesky() const {
  arma::mat L = arma::trimatl(C_);
  L.diag() = arma::exp(arma::clamp(C_.diag(), log_std_floor, log_std_ceiling));
  return L;
}

void FullCovarianceExpert::project() {
  C_.diag() = arma::clamp(C_.diag(), log_std_floor, log_std_ceiling);
  fit_floored_ = false;
}

bool FullCovarianceExpert::at_variance_floor() const {
  return fit_floored_ || C_.diag().min() <= log_std_floor + 1e-9;
}

namespace {

// T^-1 B for a triangular T (trimatl or trimatu of a matrix) by substitution. solve_opts::fast skips the
// condition estimate, which would refuse, and in solve()'s throwing form throw inside the mixtures'
// OpenMP loops (a crash), a badly conditioned L; the diagonal, clamped to [floor, ceiling], is never 0,
// so the substitution itself cannot fail (NaN marks the impossible case, and the trainer reports it).
template <typename Triangular>
arma::mat triangular_solve(const Triangular& T, const arma::mat& B) {
  arma::mat X;
  if (!arma::solve(X, T, B, arma::solve_opts::fast)) {
    X.set_size(arma::size(B));
    X.fill(arma::datum::nan);
  }
  return X;
}

}  // namespace

arma::mat FullCovarianceExpert::predict(const arma::mat& X) const {
  arma::mat M = W_ * X;
  M.each_col() += b_.col(0);
  return M;
}

arma::rowvec FullCovarianceExpert::log_likelihood(const arma::mat& X, const arma::mat& Y) const {
  const arma::mat L = cholesky();
  const arma::mat U = triangular_solve(arma::trimatl(L), Y - predict(X));  // m x N
  return -0.5 * arma::sum(arma::square(U), 0) -
         (arma::accu(arma::log(L.diag())) + 0.5 * double(L.n_rows) * log_2pi);
}

void FullCovarianceExpert::accumulate_grad(const arma::mat& X, const arma::mat& Y, const arma::rowvec& w) {
  const arma::mat L = cholesky();
  const arma::mat U = triangular_solve(arma::trimatl(L), Y - predict(X));  // u = L^-1 r
  const arma::mat Lt = L.t();
  arma::mat V = triangular_solve(arma::trimatu(Lt), U);                     // v = L^-T u = dlog p / dmean
  arma::mat Uw = U.each_row() % w;
  // dlog p/dL = v u' - L^-T, summed with weights; only the lower triangle is a parameter.
  const arma::mat inverse_Lt = triangular_solve(arma::trimatu(Lt), arma::eye(arma::size(L)));
  arma::mat G = V * Uw.t() - arma::accu(w) * inverse_Lt;
  G = arma::trimatl(G);
  for (arma::uword i = 0; i < G.n_rows; ++i)  // chain rule for L_ii = exp(C_ii); zero outside [floor, ceiling]
    G(i, i) = C_(i, i) < log_std_floor || C_(i, i) > log_std_ceiling ? 0.0 : G(i, i) * L(i, i);
  V.each_row() %= w;
  dW_ -= V * X.t();
  db_ -= arma::sum(V, 1);
  dC_ -= G;
}

void FullCovarianceExpert::fit(const arma::mat& X, const arma::mat& Y, const arma::rowvec& w,
                               const IrlsOptions& irls) {
  const double mass = arma::accu(w);
  if (mass <= 1e-300) return;
  // The mean given the current covariance (ECM; with no penalty the same weighted least squares as the
  // diagonal expert's, whatever the covariance), then the weighted residual covariance.
  const arma::mat held = cholesky();
  penalised_least_squares(X, Y, w, irls.l2, held * held.t(), W_, b_);
  const arma::mat R = Y - predict(X);
  arma::mat S = ((R.each_row() % w) * R.t()) / mass;
  S = 0.5 * (S + S.t());
  // Eigenvalues floored at the variance floor: this is the exact maximiser over covariances whose
  // eigenvalues are >= floor, so the M-step stays monotone; and it keeps every L_ii >= sqrt(floor), where
  // the likelihood's own clamp on C_ii never acts (L_ii^2 >= the smallest eigenvalue).
  arma::vec lambda;
  arma::mat Q;
  if (!arma::eig_sym(lambda, Q, S)) return;
  const double floor = std::exp(2.0 * log_std_floor);
  fit_floored_ = lambda.min() < floor;
  S = Q * arma::diagmat(arma::clamp(lambda, floor, arma::datum::inf)) * Q.t();
  S = 0.5 * (S + S.t());
  arma::mat L;
  if (!arma::chol(L, S, "lower")) return;
  C_ = arma::trimatl(L);
  C_.diag() = arma::log(arma::clamp(L.diag(), std::exp(log_std_floor), std::exp(log_std_ceiling)));
}

namespace {
const ExpertRegistration registered{{
    .name = "linear-gaussian-full",
    .help = "linear regression y ~ N(W x + b, S) with a learnable full covariance S (Cholesky factor)",
    .classification_only = false,
    .parameters = [](double d, double m) { return m * d + m * m; },
    .make = [](arma::uword inputs, arma::uword outputs, bool) -> std::unique_ptr<Expert> {
      return std::make_unique<FullCovarianceExpert>(inputs, outputs);
    },
}};
}  // namespace

}  // namespace moe
