#include "moe/gates/linear_softmax_gate.hpp"

#include "moe/core/error.hpp"
#include "moe/core/math.hpp"

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
  params.add(prefix + "V", V_, dV_);
  params.add(prefix + "c", c_, dc_);
}

arma::mat LinearSoftmaxGate::logits(const arma::mat& X) const {
  arma::mat Z = V_ * X;
  Z.each_col() += c_.col(0);
  return Z;
}

arma::mat LinearSoftmaxGate::probabilities(const arma::mat& X) const { return column_softmax(logits(X)).prob; }
arma::mat LinearSoftmaxGate::log_probabilities(const arma::mat& X) const { return column_softmax(logits(X)).log_prob; }

void LinearSoftmaxGate::accumulate_grad(const arma::mat& X, const arma::mat& dlogits) {
  dV_ += dlogits * X.t();
  dc_ += arma::sum(dlogits, 1);
}

}  // namespace moe
