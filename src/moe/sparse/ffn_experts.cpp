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

constexpr double inv_sqrt2 = 0.70710678118654752440;
constexpr double inv_sqrt_2pi = 0.39894228040143267794;

// act(pre) and act'(pre), element-wise on f x n.
arma::mat activate(const arma::mat& pre, FfnActivation a) {
  arma::mat h(arma::size(pre));
  for (arma::uword i = 0; i < pre.n_elem; ++i) {
    const double x = pre[i];
    h[i] = a == FfnActivation::relu ? (x > 0.0 ? x : 0.0) : x * 0.5 * std::erfc(-x * inv_sqrt2);
  }
  return h;
}

arma::mat derivative(const arma::mat& pre, FfnActivation a) {
  arma::mat g(arma::size(pre));
  for (arma::uword i = 0; i < pre.n_elem; ++i) {
    const double x = pre[i];
    // gelu'(x) = Phi(x) + x phi(x)
    g[i] = a == FfnActivation::relu ? (x > 0.0 ? 1.0 : 0.0)
                                    : 0.5 * std::erfc(-x * inv_sqrt2) + x * inv_sqrt_2pi * std::exp(-0.5 * x * x);
  }
  return g;
}

}  // namespace

FfnExperts::FfnExperts(arma::uword model_dim, arma::uword ff_dim, arma::uword experts, FfnActivation activation)
    : d_(model_dim), f_(ff_dim), activation_(activation) {
  require(model_dim >= 1 && ff_dim >= 1, "FFN experts need d_model >= 1 and d_ff >= 1");
  for (arma::uword e = 0; e < experts; ++e) {
    W1_.emplace_back(f_, d_, arma::fill::zeros);
    b1_.emplace_back(f_, 1, arma::fill::zeros);
    W2_.emplace_back(d_, f_, arma::fill::zeros);
    b2_.emplace_back(d_, 1, arma::fill::zeros);
  }
  dW1_ = W1_, db1_ = b1_, dW2_ = W2_, db2_ = b2_;
}

void FfnExperts::init(Rng& rng, double output_scale) {
  for (arma::uword e = 0; e < experts(); ++e) {
    W1_[e] = rng.normal_matrix(f_, d_, 1.0 / std::sqrt(double(d_)));
    W2_[e] = rng.normal_matrix(d_, f_, output_scale / std::sqrt(double(f_)));
    b1_[e].zeros();
    b2_[e].zeros();
  }
}

void FfnExperts::collect(ParamList& params, const std::string& prefix) {
  for (arma::uword e = 0; e < experts(); ++e) {
    const std::string p = prefix + "expert" + std::to_string(e) + "/";
    params.add(p + "W1", W1_[e], dW1_[e]);
    params.add(p + "b1", b1_[e], db1_[e]);
    params.add(p + "W2", W2_[e], dW2_[e]);
    params.add(p + "b2", b2_[e], db2_[e]);
  }
}

arma::mat FfnExperts::forward(arma::uword e, const arma::mat& X, arma::mat* pre) const {
  arma::mat A = W1_[e] * X;
  A.each_col() += b1_[e];
  arma::mat Y = W2_[e] * activate(A, activation_);
  Y.each_col() += b2_[e];
  if (pre) *pre = std::move(A);
  return Y;
}

arma::mat FfnExperts::backward(arma::uword e, const arma::mat& X, const arma::mat& pre, const arma::mat& dY) {
  if (X.n_cols == 0) return arma::mat(d_, 0);
  const arma::mat H = activate(pre, activation_);
  dW2_[e] += dY * H.t();
  db2_[e] += arma::sum(dY, 1);
  const arma::mat dA = (W2_[e].t() * dY) % derivative(pre, activation_);
  dW1_[e] += dA * X.t();
  db1_[e] += arma::sum(dA, 1);
  return W1_[e].t() * dA;
}

void FfnExperts::copy_into_all(const arma::mat& W1, const arma::mat& b1, const arma::mat& W2, const arma::mat& b2) {
  require(W1.n_rows == f_ && W1.n_cols == d_ && b1.n_elem == f_ && W2.n_rows == d_ && W2.n_cols == f_ &&
              b2.n_elem == d_,
          "upcycling: the dense FFN is " + std::to_string(W1.n_cols) + " -> " + std::to_string(W1.n_rows) +
              ", the experts are " + std::to_string(d_) + " -> " + std::to_string(f_));
  for (arma::uword e = 0; e < experts(); ++e) {
    W1_[e] = W1;
    b1_[e] = arma::reshape(b1, f_, 1);
    W2_[e] = W2;
    b2_[e] = arma::reshape(b2, d_, 1);
  }
}

}  // namespace moe
