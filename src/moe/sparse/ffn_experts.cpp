#include "moe/sparse/ffn_experts.hpp"

#include <cmath>

#include "moe/core/error.hpp"

namespace moe {

FfnActivation parse_ffn_activation(const std::string& name) {
  if (name == "relu") return FfnActivation::relu;
  if (name == "gelu") return FfnActivation::gelu;
  fail("unknown FFN activation '" + name + "' (expected relu or gelu)");
}

namespace {

arma::mat activate(const arma::mat& pre, FfnActivation a) {
  arma::mat h(arma::size(pre));
  for (arma::uword i = 0; i < pre.n_elem; ++i) h[i] = moe::activate(a, pre[i]);
  return h;
}

arma::mat derivative(const arma::mat& pre, FfnActivation a) {
  arma::mat g(arma::size(pre));
  for (arma::uword i = 0; i < pre.n_elem; ++i) g[i] = activation_derivative(a, pre[i]);
  return g;
}

}  // namespace

void FfnExperts::Kind::allocate(arma::uword rows, arma::uword cols, arma::uword experts) {
  storage.assign(rows * cols * experts, 0.0);
  views.clear();
  views.reserve(experts);
  // Strict views: an assignment of another size throws instead of reallocating away from the storage.
  for (arma::uword e = 0; e < experts; ++e) views.emplace_back(storage.data() + e * rows * cols, rows, cols, false, true);
}

FfnExperts::FfnExperts(arma::uword model_dim, arma::uword ff_dim, arma::uword experts, FfnActivation activation)
    : FfnExperts(model_dim, ff_dim, experts, activation, 0, experts) {}

FfnExperts::FfnExperts(arma::uword model_dim, arma::uword ff_dim, arma::uword experts, FfnActivation activation,
                       arma::uword first, arma::uword layer_experts)
    : d_(model_dim), f_(ff_dim), activation_(activation), first_(first), layer_experts_(layer_experts) {
  require(model_dim >= 1 && ff_dim >= 1, "FFN experts need d_model >= 1 and d_ff >= 1");
  require(first + experts <= layer_experts, "FFN experts: the slice ends beyond the layer's experts");
  for (Kind* k : {&W1_, &dW1_}) k->allocate(f_, d_, experts);
  for (Kind* k : {&b1_, &db1_}) k->allocate(f_, 1, experts);
  for (Kind* k : {&W2_, &dW2_}) k->allocate(d_, f_, experts);
  for (Kind* k : {&b2_, &db2_}) k->allocate(d_, 1, experts);
}

kernels::ExpertWeights<double> FfnExperts::weights() const {
  return {d_, f_, experts(), W1_.storage.data(), b1_.storage.data(), W2_.storage.data(), b2_.storage.data()};
}

kernels::ExpertGrads<double> FfnExperts::grads() {
  return {dW1_.storage.data(), db1_.storage.data(), dW2_.storage.data(), db2_.storage.data()};
}

void FfnExperts::init(Rng& rng, double output_scale) {
  // Every expert of the layer draws in turn; a slice keeps its own and lets the others' draws go.
  for (arma::uword id = 0; id < layer_experts_; ++id) {
    arma::mat W1 = rng.normal_matrix(f_, d_, 1.0 / std::sqrt(double(d_)));
    arma::mat W2 = rng.normal_matrix(d_, f_, output_scale / std::sqrt(double(f_)));
    if (id < first_ || id >= first_ + experts()) continue;
    const arma::uword e = id - first_;
    W1_.views[e] = W1;
    W2_.views[e] = W2;
    b1_.views[e].zeros();
    b2_.views[e].zeros();
  }
}

void FfnExperts::collect(ParamList& params, const std::string& prefix) {
  for (arma::uword e = 0; e < experts(); ++e) {
    const std::string p = prefix + "expert" + std::to_string(first_ + e) + "/";
    params.add(p + "W1", W1_.views[e], dW1_.views[e], ParamKind::weight);
    params.add(p + "b1", b1_.views[e], db1_.views[e]);
    params.add(p + "W2", W2_.views[e], dW2_.views[e], ParamKind::weight);
    params.add(p + "b2", b2_.views[e], db2_.views[e]);
  }
}

arma::mat FfnExperts::forward(arma::uword e, const arma::mat& X, arma::mat* pre) const {
  arma::mat A = W1_.views[e] * X;
  A.each_col() += b1_.views[e];
  arma::mat Y = W2_.views[e] * activate(A, activation_);
  Y.each_col() += b2_.views[e];
  if (pre) *pre = std::move(A);
  return Y;
}

arma::mat FfnExperts::backward(arma::uword e, const arma::mat& X, const arma::mat& pre, const arma::mat& dY) {
  if (X.n_cols == 0) return arma::mat(d_, 0);
  const arma::mat H = activate(pre, activation_);
  dW2_.views[e] += dY * H.t();
  db2_.views[e] += arma::sum(dY, 1);
  const arma::mat dA = (W2_.views[e].t() * dY) % derivative(pre, activation_);
  dW1_.views[e] += dA * X.t();
  db1_.views[e] += arma::sum(dA, 1);
  return W1_.views[e].t() * dA;
}

void FfnExperts::copy_into_all(const arma::mat& W1, const arma::mat& b1, const arma::mat& W2, const arma::mat& b2) {
  require(W1.n_rows == f_ && W1.n_cols == d_ && b1.n_elem == f_ && W2.n_rows == d_ && W2.n_cols == f_ &&
              b2.n_elem == d_,
          "upcycling: the dense FFN is " + std::to_string(W1.n_cols) + " -> " + std::to_string(W1.n_rows) +
              ", the experts are " + std::to_string(d_) + " -> " + std::to_string(f_));
  for (arma::uword e = 0; e < experts(); ++e) {
    W1_.views[e] = W1;
    b1_.views[e] = arma::reshape(b1, f_, 1);
    W2_.views[e] = W2;
    b2_.views[e] = arma::reshape(b2, d_, 1);
  }
}

}  // namespace moe
