#include "moe/models/deep_layer.hpp"

#include <cmath>

#include "moe/core/math.hpp"

namespace moe {

namespace {

// max(0, M) in place.
void relu_inplace(arma::mat& M) {
  double* p = M.memptr();
  for (arma::uword k = 0; k < M.n_elem; ++k) p[k] = p[k] > 0.0 ? p[k] : 0.0;
}

// D(k) = 0 wherever the ReLU output A(k) is 0 (the derivative of max(0, x) taken as 0 at x = 0).
void relu_backward_inplace(arma::mat& D, const arma::mat& A) {
  double* d = D.memptr();
  const double* a = A.memptr();
  for (arma::uword k = 0; k < D.n_elem; ++k)
    if (!(a[k] > 0.0)) d[k] = 0.0;
}

// Work (multiply-adds) above which the per-expert products are spread over the OpenMP threads. Each
// expert's numbers are computed by one thread whatever the thread count, and the input gradient is
// summed over experts in a fixed order, so results do not depend on the number of threads.
constexpr double parallel_work = 1 << 20;

}  // namespace

arma::mat GateBalance::apply(const arma::mat& logits) {
  const arma::uword K = logits.n_rows;
  arma::mat P(K, logits.n_cols, arma::fill::zeros);
  std::vector<char> on(K);
  for (arma::uword n = 0; n < logits.n_cols; ++n) {
    const double mean = arma::mean(sums);
    const double* z = logits.colptr(n);
    double mx = -arma::datum::inf;
    for (arma::uword i = 0; i < K; ++i) {
      on[i] = !(sums[i] - mean > margin);
      if (on[i]) mx = std::max(mx, z[i]);
      else ++blocked;
    }
    double* p = P.colptr(n);
    double total = 0.0;
    for (arma::uword i = 0; i < K; ++i)
      if (on[i]) total += (p[i] = std::exp(z[i] - mx));
    for (arma::uword i = 0; i < K; ++i) {
      p[i] /= total;
      sums[i] += p[i];
    }
  }
  return P;
}

DeepMixtureLayer::DeepMixtureLayer(arma::uword inputs, arma::uword outputs, arma::uword experts,
                                   arma::uword gate_hidden)
    : W1_(gate_hidden, inputs, arma::fill::zeros),
      b1_(gate_hidden, 1, arma::fill::zeros),
      W2_(experts, gate_hidden, arma::fill::zeros),
      b2_(experts, 1, arma::fill::zeros) {
  for (arma::uword i = 0; i < experts; ++i) {
    W_.emplace_back(outputs, inputs, arma::fill::zeros);
    b_.emplace_back(outputs, 1, arma::fill::zeros);
  }
  dW_.resize(experts);
  db_.resize(experts);
}

void DeepMixtureLayer::init(Rng& rng) {
  const double relu_scale = std::sqrt(2.0 / double(inputs()));
  for (arma::uword i = 0; i < experts(); ++i) {
    W_[i] = rng.normal_matrix(W_[i].n_rows, W_[i].n_cols, relu_scale);
    b_[i].zeros();
  }
  W1_ = rng.normal_matrix(W1_.n_rows, W1_.n_cols, relu_scale);
  W2_ = rng.normal_matrix(W2_.n_rows, W2_.n_cols, 1.0 / std::sqrt(double(W1_.n_rows)));
  b1_.zeros();
  b2_.zeros();
}

void DeepMixtureLayer::collect(ParamList& params, const std::string& prefix) {
  for (arma::uword i = 0; i < experts(); ++i) {
    const std::string e = prefix + "expert" + std::to_string(i) + "/";
    params.add(e + "W", W_[i], dW_[i], ParamKind::weight);
    params.add(e + "b", b_[i], db_[i]);
  }
  params.add(prefix + "gate/W1", W1_, dW1_, ParamKind::weight);
  params.add(prefix + "gate/b1", b1_, db1_);
  params.add(prefix + "gate/W2", W2_, dW2_, ParamKind::weight);
  params.add(prefix + "gate/b2", b2_, db2_);
}

arma::mat DeepMixtureLayer::gate_logits(const arma::mat& A, arma::mat* hidden) const {
  arma::mat Q = W1_ * A;  // G x N
  Q.each_col() += b1_.col(0);
  relu_inplace(Q);
  arma::mat S = W2_ * Q;  // K x N
  S.each_col() += b2_.col(0);
  if (hidden) *hidden = std::move(Q);
  return S;
}

DeepMixtureLayer::Cache DeepMixtureLayer::forward(const arma::mat& A, GateBalance* balance) const {
  Cache c;
  const arma::mat S = gate_logits(A, &c.gate_hidden);
  c.gate = balance ? balance->apply(S) : softmax_cols(S);
  const arma::uword K = experts(), H = outputs();
  c.experts.resize(K);
  const bool parallel = double(H) * double(A.n_rows) * double(A.n_cols) >= parallel_work;
#pragma omp parallel for schedule(static) if (K > 1 && parallel)
  for (arma::uword i = 0; i < K; ++i) {
    arma::mat E = W_[i] * A;  // H x N
    E.each_col() += b_[i].col(0);
    relu_inplace(E);
    c.experts[i] = std::move(E);
  }
  c.output.zeros(H, A.n_cols);
  for (arma::uword i = 0; i < K; ++i) c.output += c.experts[i].each_row() % c.gate.row(i);
  return c;
}

arma::mat DeepMixtureLayer::backward(const arma::mat& A, const Cache& c, const arma::mat& dZ, bool input_grad) {
  const arma::uword K = experts(), N = A.n_cols;
  // Gate: dL/dg_i = sum_h dZ_h f_ih; through the softmax, ds = g % (dg - sum_k g_k dg_k).
  arma::mat dG(K, N);
  for (arma::uword i = 0; i < K; ++i) dG.row(i) = arma::sum(dZ % c.experts[i], 0);
  arma::mat dS = dG.each_row() - arma::sum(c.gate % dG, 0);
  dS %= c.gate;
  dW2_ += dS * c.gate_hidden.t();
  db2_ += arma::sum(dS, 1);
  arma::mat dQ = W2_.t() * dS;  // G x N
  relu_backward_inplace(dQ, c.gate_hidden);
  dW1_ += dQ * A.t();
  db1_ += arma::sum(dQ, 1);
  // Experts: dL/d(pre-activation of f_i) = g_i dZ where f_i > 0.
  std::vector<arma::mat> dA_expert(input_grad ? K : 0);
  const bool parallel = double(outputs()) * double(A.n_rows) * double(N) >= parallel_work;
#pragma omp parallel for schedule(static) if (K > 1 && parallel)
  for (arma::uword i = 0; i < K; ++i) {
    arma::mat dP = dZ.each_row() % c.gate.row(i);  // H x N
    relu_backward_inplace(dP, c.experts[i]);
    dW_[i] += dP * A.t();
    db_[i] += arma::sum(dP, 1);
    if (input_grad) dA_expert[i] = W_[i].t() * dP;
  }
  if (!input_grad) return {};
  arma::mat dA = W1_.t() * dQ;  // D x N
  for (arma::uword i = 0; i < K; ++i) dA += dA_expert[i];
  return dA;
}

}  // namespace moe
