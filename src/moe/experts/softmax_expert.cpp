#include "moe/experts/softmax_expert.hpp"

#include "moe/core/math.hpp"
#include "moe/experts/expert_registry.hpp"

namespace moe {

void SoftmaxExpert::init(Rng& rng) {
  W_ = rng.normal_matrix(W_.n_rows, W_.n_cols, 1.0 / std::sqrt(double(W_.n_cols) + 1.0));
  b_.zeros();
}

void SoftmaxExpert::collect(ParamList& params, const std::string& prefix) {
  params.add(prefix + "W", W_, dW_, ParamKind::weight);
  params.add(prefix + "b", b_, db_);
}

arma::mat SoftmaxExpert::logits(const arma::mat& X) const {
  arma::mat Z = W_ * X;
  Z.each_col() += b_.col(0);
  return Z;
}

arma::mat SoftmaxExpert::predict(const arma::mat& X) const { return softmax_cols(logits(X)); }

arma::rowvec SoftmaxExpert::log_likelihood(const arma::mat& X, const arma::mat& Y) const {
  return arma::sum(Y % log_softmax_cols(logits(X)), 0);
}

void SoftmaxExpert::accumulate_grad(const arma::mat& X, const arma::mat& Y, const arma::rowvec& w) {
  // d(-sum_c y_c log p_c)/dlogits = p * sum_c y_c - y
  arma::mat P = predict(X);
  arma::mat G = P.each_row() % arma::sum(Y, 0) - Y;
  G.each_row() %= w;
  dW_ += G * X.t();
  db_ += arma::sum(G, 1);
}

void SoftmaxExpert::fit(const arma::mat& X, const arma::mat& Y, const arma::rowvec& w, const IrlsOptions& irls) {
  if (arma::accu(w) <= 1e-300) return;
  irls_softmax(W_, b_, X, Y, w, irls);
}

namespace {
const ExpertRegistration registered{{
    .name = "softmax",
    .help = "a linear softmax classifier p(y | x) = softmax(W x + b) (needs --task classification)",
    .classification_only = true,
    .parameters = [](double d, double m) { return m * d; },
    .make = [](arma::uword inputs, arma::uword outputs, bool) -> std::unique_ptr<Expert> {
      return std::make_unique<SoftmaxExpert>(inputs, outputs);
    },
}};
}  // namespace

}  // namespace moe
