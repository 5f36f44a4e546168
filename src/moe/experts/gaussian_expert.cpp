#include "moe/experts/gaussian_expert.hpp"

#include "moe/core/math.hpp"
#include "moe/experts/expert_registry.hpp"

namespace moe {

void GaussianExpert::init(Rng& rng) { mu_ = rng.normal_matrix(mu_.n_rows, 1, 0.5); }

void GaussianExpert::collect(ParamList& params, const std::string& prefix) { params.add(prefix + "mu", mu_, dmu_); }

arma::rowvec GaussianExpert::log_likelihood(const arma::mat&, const arma::mat& Y) const {
  arma::mat R = Y.each_col() - mu_.col(0);
  return -0.5 * arma::sum(arma::square(R), 0) - 0.5 * double(mu_.n_rows) * log_2pi;
}

arma::mat GaussianExpert::predict(const arma::mat& X) const { return arma::repmat(mu_, 1, X.n_cols); }

void GaussianExpert::accumulate_grad(const arma::mat&, const arma::mat& Y, const arma::rowvec& w) {
  // d(-log N)/dmu = -(y - mu)
  arma::mat R = Y.each_col() - mu_.col(0);
  dmu_ -= R * w.t();
}

void GaussianExpert::fit(const arma::mat&, const arma::mat& Y, const arma::rowvec& w, const IrlsOptions&) {
  const double mass = arma::accu(w);
  if (mass <= 1e-300) return;
  mu_ = (Y * w.t()) / mass;  // weighted mean: the exact maximiser
}

namespace {
const ExpertRegistration registered{{
    .name = "gaussian",
    .help = "an input-free mean with unit variance: y ~ N(mu, I) (the experts of a mixture of Gaussians)",
    .classification_only = false,
    .parameters = [](double, double m) { return m; },
    .make = [](arma::uword, arma::uword outputs, bool) -> std::unique_ptr<Expert> {
      return std::make_unique<GaussianExpert>(outputs);
    },
}};
}  // namespace

}  // namespace moe
