#include "moe/sparse/backend_router.hpp"

#include <cmath>

#include "moe/core/error.hpp"

namespace moe {

RouterLogits::RouterLogits(const RouterSetup& setup, const std::string& name)
    : b(setup.params.backend()), params_(setup.params), name_(setup.prefix + name) {
  params_.allocate(W, dW, setup.experts, setup.inputs, setup.replicated);
  params_.view(name_, ParamKind::other, W);
}

void RouterLogits::init(Rng& rng, double scale) {
  arma::mat& host = params_.host(name_);
  host = scale == 0.0 ? arma::mat(host.n_rows, host.n_cols, arma::fill::zeros)
                      : rng.normal_matrix(host.n_rows, host.n_cols, scale / std::sqrt(double(host.n_cols)));
}

void RouterLogits::forward(const Tensor& X) {
  const std::size_t E = W.rows(), N = X.cols();
  b.reshape(L, E, N);
  b.gemm(false, false, 1.0, W, X, 0.0, L);  // L = W X
  b.reshape(P, E, N);
  b.reshape(lse, 1, N);
  b.softmax_columns(L, P, &lse);
}

void RouterLogits::backward(const Tensor& X, const Tensor& dL, Tensor& dX) {
  b.gemm(false, true, 1.0, dL, X, 0.0, dW);  // dW = dL X^T
  b.gemm(true, false, 1.0, W, dL, 1.0, dX);  // dX += W^T dL
}

SelectionBias::SelectionBias(const RouterSetup& setup)
    : b_(setup.params.backend()), name_(setup.prefix + "bias"), rate_(setup.spec.bias_rate) {
  bias = b_.zeros(setup.experts, 1);
  host_.zeros(setup.experts, 1);
  synced_ = host_;
}

void SelectionBias::reset() { host_.zeros(); }

void SelectionBias::collect_state(ParamList& params) {
  grad_.zeros(arma::size(host_));  // state, not trained: its gradient stays 0
  params.add(name_, host_, grad_, ParamKind::other);
}

void SelectionBias::end_step(const DevicePlan& plan, const ShardSum* shard) { b_.bias_update(plan, rate_, bias, shard); }

void SelectionBias::to_host() {
  host_ = arma::mat(b_.to_host(bias));
  synced_ = host_;
}

void SelectionBias::from_host() {
  require(host_.n_elem == bias.rows() && host_.n_cols == 1, "checkpoint: the router's bias does not fit this layer");
  b_.upload(bias, host_.memptr());
  synced_ = host_;
}

bool SelectionBias::changed() const {
  return arma::size(synced_) != arma::size(host_) || !arma::approx_equal(synced_, host_, "absdiff", 0.0);
}

}  // namespace moe
