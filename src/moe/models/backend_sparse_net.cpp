#include "moe/models/backend_sparse_net.hpp"

#include <cmath>

#include "moe/backend/routing_plan.hpp"
#include "moe/core/error.hpp"
#include "moe/sparse/ffn_experts.hpp"

namespace moe {

namespace {

void upload_matrix(Backend& b, Tensor& t, const arma::mat& M) {
  b.reshape(t, M.n_rows, M.n_cols);
  if (M.n_elem > 0) b.upload(t, M.memptr());
}

}  // namespace

BackendSparseNet::BackendSparseNet(const ModelSpec& spec, std::unique_ptr<Backend> backend,
                                   const OptimizerOptions& optimizer)
    : spec_(spec), b_(std::move(backend)), opt_(optimizer) {
  spec_.validate();
  const SparseLayerSpec& s = spec_.sparse;
  require(s.router == "topk" || s.router == "switch",
          "the backend sparse network routes with topk or switch so far, not " + s.router);
  require(s.shared_experts == 0 && s.w_importance == 0 && s.w_load == 0,
          "the backend sparse network has no shared experts, importance or load loss yet");
  D_ = s.model_dim, F_ = s.ff_dim, E_ = spec_.experts, d_ = spec_.inputs, m_ = spec_.outputs;
  k_ = s.router == "switch" ? 1 : s.top_k;
  allocate(w_);
  allocate(g_);
  allocate(m1_);
  allocate(m2_);
  for (Tensor* t : list(m1_)) b_->fill(*t, 0.0);
  for (Tensor* t : list(m2_)) b_->fill(*t, 0.0);
  loss_sum_ = b_->zeros(1, 1);
  switch_sum_ = b_->zeros(1, 1);
  z_sum_ = b_->zeros(1, 1);
}

void BackendSparseNet::allocate(Weights& w) {
  w.W_in = b_->tensor(D_, d_);
  w.b_in = b_->tensor(D_, 1);
  w.W_r = b_->tensor(E_, D_);
  w.W_out = b_->tensor(m_, D_);
  w.b_out = b_->tensor(m_, 1);
  w.experts = {b_->tensor(F_, D_ * E_), b_->tensor(F_, E_), b_->tensor(D_, F_ * E_), b_->tensor(D_, E_)};
}

std::vector<Tensor*> BackendSparseNet::list(Weights& w) {
  return {&w.W_in, &w.b_in, &w.W_r, &w.W_out, &w.b_out, &w.experts.W1, &w.experts.b1, &w.experts.W2, &w.experts.b2};
}

void BackendSparseNet::init(Rng& rng) {
  upload_matrix(*b_, w_.W_in, rng.normal_matrix(D_, d_, 1.0 / std::sqrt(double(d_))));
  upload_matrix(*b_, w_.W_out, rng.normal_matrix(m_, D_, 1.0 / std::sqrt(double(D_))));
  const double scale = spec_.sparse.init_scale();
  upload_matrix(*b_, w_.W_r, scale == 0.0 ? arma::mat(E_, D_, arma::fill::zeros)
                                          : rng.normal_matrix(E_, D_, scale / std::sqrt(double(D_))));
  arma::mat W1(F_, D_ * E_), W2(D_, F_ * E_);
  for (std::size_t e = 0; e < E_; ++e) {
    W1.cols(e * D_, (e + 1) * D_ - 1) = rng.normal_matrix(F_, D_, 1.0 / std::sqrt(double(D_)));
    W2.cols(e * F_, (e + 1) * F_ - 1) = rng.normal_matrix(D_, F_, 1.0 / std::sqrt(double(F_)));
  }
  upload_matrix(*b_, w_.experts.W1, W1);
  upload_matrix(*b_, w_.experts.W2, W2);
  for (Tensor* t : {&w_.b_in, &w_.b_out, &w_.experts.b1, &w_.experts.b2}) b_->fill(*t, 0.0);
}

void BackendSparseNet::step(const arma::mat& X, const arma::mat& Y) {
  require(X.n_rows == d_ && Y.n_rows == m_ && X.n_cols == Y.n_cols, "backend sparse net: a batch of the wrong shape");
  const std::size_t N = X.n_cols;
  upload_matrix(*b_, X_, X);
  upload_matrix(*b_, Y_, Y);
  forward(N);
  backward(N);
  update();
}

void BackendSparseNet::forward(std::size_t N) {
  Backend& b = *b_;
  const SparseLayerSpec& s = spec_.sparse;
  b.reshape(H0_, D_, N);
  b.gemm(false, false, 1.0, w_.W_in, X_, 0.0, H0_);  // H0 = W_in X + b_in
  b.add_columns(H0_, w_.b_in);
  b.reshape(L_, E_, N);
  b.gemm(false, false, 1.0, w_.W_r, H0_, 0.0, L_);  // L = W_r H0
  b.reshape(P_, E_, N);
  b.reshape(lse_, 1, N);
  b.softmax_columns(L_, P_, &lse_);
  plan_.tokens = N, plan_.experts = E_, plan_.k = k_;
  plan_.capacity = expert_capacity(N, E_, k_, s.capacity_factor);
  b.reshape(plan_.slot_expert, k_, N, DType::i32);
  b.reshape(plan_.slot_weight, k_, N);
  b.top_k(L_, nullptr, k_, plan_.slot_expert);
  const bool renormalize = s.router != "switch" && s.renormalize;
  b.slot_weights(P_, plan_.slot_expert, renormalize, plan_.slot_weight);
  b.build_plan(plan_);
  b.reshape(H1_, D_, N);
  b.routed_ffn_forward(plan_, w_.experts, parse_ffn_activation(s.ffn_activation), H0_, true, H1_, ffn_cache_);
  b.reshape(Z_, m_, N);
  b.gemm(false, false, 1.0, w_.W_out, H1_, 0.0, Z_);  // Z = W_out H1 + b_out
  b.add_columns(Z_, w_.b_out);
}

void BackendSparseNet::backward(std::size_t N) {
  Backend& b = *b_;
  const SparseLayerSpec& s = spec_.sparse;
  const double inv_n = 1.0 / double(N);
  b.reshape(loss_cols_, 1, N);
  b.reshape(dZ_, m_, N);
  if (spec_.task == Task::classification) b.softmax_cross_entropy(Z_, Y_, inv_n, loss_cols_, &dZ_);
  else b.squared_error(Z_, Y_, inv_n, loss_cols_, &dZ_);
  b.sum_into(loss_cols_, inv_n, loss_sum_);
  // Output layer: dW_out = dZ H1^T, db_out = sum dZ, dH1 = W_out^T dZ (gradients written, not added).
  b.gemm(false, true, 1.0, dZ_, H1_, 0.0, g_.W_out);
  b.sum_columns(dZ_, 0.0, g_.b_out);
  b.reshape(dH1_, D_, N);
  b.gemm(true, false, 1.0, w_.W_out, dZ_, 0.0, dH1_);
  // Routed experts (their gradients accumulate: zeroed first), then the router.
  for (Tensor* t : {&g_.experts.W1, &g_.experts.b1, &g_.experts.W2, &g_.experts.b2}) b.fill(*t, 0.0);
  b.reshape(dH0_, D_, N);
  b.reshape(dw_, k_, N);
  b.routed_ffn_backward(plan_, w_.experts, parse_ffn_activation(s.ffn_activation), dH1_, true, dH0_, g_.experts, dw_,
                        ffn_cache_);
  b.reshape(dL_, E_, N);
  b.fill(dL_, 0.0);
  const bool renormalize = s.router != "switch" && s.renormalize;
  b.slot_weights_backward(P_, plan_.slot_expert, renormalize, dw_, dL_);
  if (s.switch_alpha > 0) b.switch_loss(L_, P_, s.switch_alpha, switch_sum_, dL_);
  if (s.z_loss > 0) b.z_loss(P_, lse_, s.z_loss, z_sum_, dL_);
  b.gemm(false, true, 1.0, dL_, H0_, 0.0, g_.W_r);  // dW_r = dL H0^T
  b.gemm(true, false, 1.0, w_.W_r, dL_, 1.0, dH0_);  // dH0 += W_r^T dL
  b.gemm(false, true, 1.0, dH0_, X_, 0.0, g_.W_in);  // dW_in = dH0 X^T
  b.sum_columns(dH0_, 0.0, g_.b_in);
}

void BackendSparseNet::update() {
  ++steps_;
  const std::vector<Tensor*> w = list(w_), g = list(g_), m1 = list(m1_), m2 = list(m2_);
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (opt_.name == "adam")
      b_->adam(*w[i], *g[i], *m1[i], *m2[i],
               AdamStep{opt_.learning_rate, opt_.beta1, opt_.beta2, opt_.epsilon, steps_}, nullptr);
    else
      b_->momentum(*w[i], *g[i], *m1[i], opt_.learning_rate, opt_.name == "sgd" || opt_.name == "momentum" ? opt_.momentum : 0.0,
                   nullptr);
  }
}

double BackendSparseNet::take_loss_sum() {
  const double v = b_->scalar(loss_sum_) + spec_.sparse.switch_alpha * b_->scalar(switch_sum_) +
                   spec_.sparse.z_loss * b_->scalar(z_sum_);
  for (Tensor* t : {&loss_sum_, &switch_sum_, &z_sum_}) b_->fill(*t, 0.0);
  return v;
}

}  // namespace moe
