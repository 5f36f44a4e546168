#include "moe/sparse/moe_layer.hpp"

#include <cmath>

#include <cstdlib>

#include "moe/backend/backend_registry.hpp"
#include "moe/backend/routing_plan.hpp"
#include "moe/core/error.hpp"
#include "moe/sparse/router_registry.hpp"

namespace moe {

std::unique_ptr<Backend> layer_backend(const SparseLayerSpec& spec) {
  return make_backend(spec.device, spec.backend_precision());
}

void upload_if_changed(BackendParams& params, MoeLayer& layer) {
  if (!params.host_changed() && !layer.host_changed()) return;
  params.from_host();
  layer.from_host();
}

MoeLayer::MoeLayer(const SparseLayerSpec& spec, std::size_t experts, BackendParams& params, const std::string& prefix,
                   Communicator* expert_parallel)
    : spec_(spec), b_(params.backend()), comm_(expert_parallel), params_(params), prefix_(prefix) {
  spec_.validate(experts);
  placement_ = comm_ ? ExpertPlacement(experts, std::size_t(comm_->size())) : ExpertPlacement(std::max<std::size_t>(experts, 1), 1);
  E_local_ = comm_ ? placement_.count(std::size_t(comm_->rank())) : experts;
  first_ = comm_ ? placement_.first(std::size_t(comm_->rank())) : 0;
  D_ = spec_.model_dim, F_ = spec_.ff_dim, E_ = experts, S_shared_ = spec_.shared_experts;
  act_ = parse_ffn_activation(spec_.ffn_activation);
  const RouterEntry& entry = router_entry(spec_.router);
  soft_ = !entry.traits.routed;
  require(!comm_ || !entry.traits.batch_wide_in_training,
          "expert parallelism needs a per-token router, not " + spec_.router + ", which routes over the whole batch");
  // Parameters, registered in the host layer's order (the ParamList's and the checkpoints' order).
  // Everything but the routed experts is a copy on every process under expert parallelism.
  auto trained = [&](Tensor& w, Tensor& g, std::size_t rows, std::size_t cols, bool replicated = true) {
    params_.allocate(w, g, rows, cols, replicated && comm_ != nullptr);
  };
  if (soft_) {
    trained(Phi_, dPhi_, D_, E_ * spec_.slots_per_expert);
    params_.view(name("router/Phi"), ParamKind::weight, Phi_);
  } else {  // the router registers its own parameters
    router_ = entry.make(RouterSetup{spec_, D_, E_, params_, name("router/"), comm_ != nullptr});
  }
  trained(experts_.W1, dexperts_.W1, F_, D_ * E_local_, false);
  trained(experts_.b1, dexperts_.b1, F_, E_local_, false);
  trained(experts_.W2, dexperts_.W2, D_, F_ * E_local_, false);
  trained(experts_.b2, dexperts_.b2, D_, E_local_, false);
  for (std::size_t e = 0; e < E_local_; ++e) {
    const std::string p = name("expert" + std::to_string(first_ + e) + "/");
    params_.view(p + "W1", ParamKind::weight, experts_.W1, e * D_, D_);
    params_.view(p + "b1", ParamKind::other, experts_.b1, e, 1);
    params_.view(p + "W2", ParamKind::weight, experts_.W2, e * F_, F_);
    params_.view(p + "b2", ParamKind::other, experts_.b2, e, 1);
  }
  shared_.resize(4 * S_shared_);
  dshared_.resize(4 * S_shared_);
  for (std::size_t j = 0; j < S_shared_; ++j) {
    const std::string p = name("shared/expert" + std::to_string(j) + "/");
    Tensor* w = &shared_[4 * j];
    Tensor* g = &dshared_[4 * j];
    trained(w[0], g[0], F_, D_);
    trained(w[1], g[1], F_, 1);
    trained(w[2], g[2], D_, F_);
    trained(w[3], g[3], D_, 1);
    params_.view(p + "W1", ParamKind::weight, w[0]);
    params_.view(p + "b1", ParamKind::other, w[1]);
    params_.view(p + "W2", ParamKind::weight, w[2]);
    params_.view(p + "b2", ParamKind::other, w[3]);
  }
  shared_pre_.resize(S_shared_);
  shared_act_.resize(S_shared_);
  aux_value_ = b_.zeros(1, 1);
  if (soft_) {
    const std::size_t p = spec_.slots_per_expert, S = E_ * p;
    std::vector<std::int32_t> expert(S);
    std::vector<double> ones(S, 1.0), group(E_ * S, 0.0);
    for (std::size_t j = 0; j < S; ++j) expert[j] = std::int32_t(j / p), group[j * E_ + j / p] = 1.0;
    soft_plan_.tokens = S, soft_plan_.experts = E_, soft_plan_.k = 1, soft_plan_.capacity = 0;
    soft_plan_.slot_expert = b_.tensor(1, S, DType::i32);
    soft_plan_.slot_weight = b_.tensor(1, S);
    b_.upload(soft_plan_.slot_expert, expert.data());
    b_.upload(soft_plan_.slot_weight, ones.data());
    b_.build_plan(soft_plan_);
    group_ = b_.tensor(E_, S);
    b_.upload(group_, group.data());
  }
}

void MoeLayer::init(Rng& rng) {
  const double scale = spec_.init_scale();
  if (soft_) {
    arma::mat& Phi = params_.host(name("router/Phi"));
    Phi = rng.normal_matrix(D_, Phi.n_cols, scale / std::sqrt(double(D_)));
  } else {
    router_->init(rng, scale);
  }
  auto ffn = [&](const std::string& p) {
    params_.host(p + "W1") = rng.normal_matrix(F_, D_, 1.0 / std::sqrt(double(D_)));
    params_.host(p + "W2") = rng.normal_matrix(D_, F_, 1.0 / std::sqrt(double(F_)));
    params_.host(p + "b1").zeros();
    params_.host(p + "b2").zeros();
  };
  for (std::size_t e = 0; e < E_; ++e) {  // every expert draws; a process keeps those it holds
    if (e >= first_ && e < first_ + E_local_) {
      ffn(name("expert" + std::to_string(e) + "/"));
    } else {
      rng.normal_matrix(F_, D_, 1.0);
      rng.normal_matrix(D_, F_, 1.0);
    }
  }
  for (std::size_t j = 0; j < S_shared_; ++j) ffn(name("shared/expert" + std::to_string(j) + "/"));
  noise_seed_ = rng.below(~std::uint64_t(0));
  noise_step_ = 0;
}

void MoeLayer::copy_into_every_expert(const arma::mat& W1, const arma::mat& b1, const arma::mat& W2,
                                      const arma::mat& b2) {
  for (std::size_t e = first_; e < first_ + E_local_; ++e) {
    const std::string p = name("expert" + std::to_string(e) + "/");
    params_.host(p + "W1") = W1, params_.host(p + "b1") = b1, params_.host(p + "W2") = W2, params_.host(p + "b2") = b2;
  }
}

void MoeLayer::collect_state(ParamList& params) {
  if (router_) router_->collect_state(params);
}

void MoeLayer::to_host() {
  if (router_) router_->state_to_host();
}

void MoeLayer::from_host() {
  if (router_) router_->state_from_host();
}

bool MoeLayer::host_changed() const { return router_ && router_->state_changed(); }

void MoeLayer::visit_state(StateVisitor& v, const std::string& prefix) {
  v.count(prefix + "noise_seed", noise_seed_);
  v.count(prefix + "step", noise_step_);
  routing_log();  // every pending step into the log first
  log_.visit_state(v, prefix + "log/");
}

void MoeLayer::set_token_ids(const std::vector<std::uint64_t>& ids) {
  b_.reshape(ids_, ids.size(), 1, DType::i64);
  if (!ids.empty()) b_.upload(ids_, reinterpret_cast<const std::int64_t*>(ids.data()));
}

void MoeLayer::forward(const Tensor& X, bool training, Tensor& Y) const {
  require(X.rows() == D_, "sparse MoE layer: tokens have " + std::to_string(X.rows()) +
                              " features, expected d_model = " + std::to_string(D_));
  const std::size_t T = X.cols();
  if (comm_) shard_ = std::make_shared<CommTokenShard>(*comm_, T);  // collective
  if (soft_) forward_soft(X, Y);
  else route_and_run(X, training, Y);
  for (std::size_t j = 0; j < S_shared_; ++j) {  // Y += W2_j act(W1_j X + b1_j) + b2_j
    const Tensor* sw = &shared_[4 * j];
    b_.reshape(shared_pre_[j], F_, T);
    b_.reshape(shared_act_[j], F_, T);
    b_.gemm(false, false, 1.0, sw[0], X, 0.0, shared_pre_[j]);
    b_.add_columns(shared_pre_[j], sw[1]);
    b_.activation_forward(act_, shared_pre_[j], shared_act_[j]);
    b_.gemm(false, false, 1.0, sw[2], shared_act_[j], 1.0, Y);
    b_.add_columns(Y, sw[3]);
  }
}

void MoeLayer::route_and_run(const Tensor& X, bool training, Tensor& Y) const {
  Backend& b = b_;
  const std::size_t N = X.cols(), batch = shard_ ? shard_->batch_tokens() : N;
  plan_.tokens = N, plan_.experts = E_, plan_.k = router_->k();
  plan_.capacity = training ? expert_capacity(batch, E_, plan_.k, spec_.capacity_factor) : 0;  // evaluation: dropless
  plan_.prior_claims.clear();
  b.reshape(plan_.slot_expert, plan_.k, N, DType::i32);
  b.reshape(plan_.slot_weight, plan_.k, N);
  Rng noise = Rng(noise_seed_).stream(noise_step_);  // this step's draws (noise, random second choices)
  router_->route(X, BackendRouteContext{training, &noise, shard_.get(), &ids_}, plan_);
  if (shard_ && plan_.capacity > 0) {  // the places the other shards' slots claim first
    const std::size_t k = plan_.k;
    std::vector<std::int32_t> se(k * N);
    if (N > 0) b.download(plan_.slot_expert, se.data());
    std::vector<std::int64_t> claims(k * E_, 0);
    for (std::size_t t = 0; t < N; ++t)
      for (std::size_t s = 0; s < k; ++s)
        if (se[t * k + s] >= 0) ++claims[s * E_ + std::size_t(se[t * k + s])];
    plan_.prior_claims = shard_->prior_claims(claims, E_);
  }
  b.build_plan(plan_);
  b.reshape(Y, D_, N);
  if (comm_) exchange_forward(X, Y);
  else b.routed_ffn_forward(plan_, experts_, act_, X, true, Y, ffn_cache_);
}

void MoeLayer::exchange_columns(const Tensor& M, const std::vector<std::size_t>& send,
                                const std::vector<std::size_t>& recv, Tensor& R) const {
  std::size_t total = 0;
  for (const std::size_t c : recv) total += c;
  std::vector<double> out(M.size()), in(D_ * total);
  if (!out.empty()) b_.download(M, out.data());
  std::vector<std::size_t> send_values(send), recv_values(recv);
  for (std::size_t& c : send_values) c *= D_;
  for (std::size_t& c : recv_values) c *= D_;
  comm_->alltoallv(out.data(), send_values, in.data(), recv_values);
  b_.reshape(R, D_, total);
  if (!in.empty()) b_.upload(R, in.data());
}

void MoeLayer::exchange_forward(const Tensor& X, Tensor& Y) const {
  Backend& b = b_;
  const std::size_t P = placement_.ranks, most = placement_.most(), mine = E_local_, N = X.cols();
  // How many kept slots go to each expert, per destination process (most counts each, padded with 0).
  std::vector<std::int64_t> offsets(E_ + 1);
  b.download(plan_.expert_offsets, offsets.data());
  const std::size_t A = std::size_t(offsets[E_]);
  std::vector<std::int64_t> counts_out(P * most, 0), counts_in(P * most);
  ex_.send_cols.assign(P, 0);
  for (std::size_t q = 0; q < P; ++q)
    for (std::size_t j = 0; j < placement_.count(q); ++j) {
      const std::size_t e = placement_.first(q) + j;
      counts_out[q * most + j] = offsets[e + 1] - offsets[e];
      ex_.send_cols[q] += std::size_t(counts_out[q * most + j]);
    }
  comm_->alltoall(counts_out.data(), most, counts_in.data());
  ex_.recv_cols.assign(P, 0);
  ex_.expert_tokens = 0;
  for (std::size_t p = 0; p < P; ++p)
    for (std::size_t j = 0; j < mine; ++j) {
      ex_.recv_cols[p] += std::size_t(counts_in[p * most + j]);
      ex_.expert_tokens += double(counts_in[p * most + j]);
    }
  // What arrives holds process 0's columns for local experts 0, 1, ..., then process 1's, ...: the order
  // that makes it expert-major (each expert's columns in process order: the one-process order).
  std::vector<std::size_t> block_start(P * mine);
  for (std::size_t p = 0, at = 0; p < P; ++p)
    for (std::size_t j = 0; j < mine; ++j) block_start[p * mine + j] = at, at += std::size_t(counts_in[p * most + j]);
  std::vector<std::int64_t> order, inverse;
  std::vector<std::int32_t> expert_of;
  for (std::size_t j = 0; j < mine; ++j)
    for (std::size_t p = 0; p < P; ++p)
      for (std::int64_t c = 0; c < counts_in[p * most + j]; ++c) {
        order.push_back(std::int64_t(block_start[p * mine + j]) + c);
        expert_of.push_back(std::int32_t(j));
      }
  const std::size_t n = order.size();
  inverse.resize(n);
  ex_.in_order = true;
  for (std::size_t i = 0; i < n; ++i) {
    inverse[std::size_t(order[i])] = std::int64_t(i);
    ex_.in_order = ex_.in_order && order[i] == std::int64_t(i);
  }
  b.reshape(ex_.order, n, 1, DType::i64);
  b.reshape(ex_.inverse, n, 1, DType::i64);
  if (n > 0) b.upload(ex_.order, order.data()), b.upload(ex_.inverse, inverse.data());
  // The kept slots' inputs in the plan's sorted order (blocks of consecutive experts per owner), out.
  std::vector<std::int32_t> sorted(plan_.k * N);
  if (!sorted.empty()) b.download(plan_.sorted_token, sorted.data());
  const std::vector<std::int64_t> index(sorted.begin(), sorted.begin() + std::ptrdiff_t(A));
  b.reshape(ex_.index, A, 1, DType::i64);
  if (A > 0) b.upload(ex_.index, index.data());
  b.reshape(ex_.inputs, D_, A);
  b.gather_columns(X, ex_.index, ex_.inputs);
  exchange_columns(ex_.inputs, ex_.send_cols, ex_.recv_cols, ex_.arrived);
  b.reshape(ex_.sorted, D_, n);
  if (ex_.in_order) b.copy(ex_.arrived, ex_.sorted);
  else b.gather_columns(ex_.arrived, ex_.order, ex_.sorted);
  // The local experts on every process's columns, as a plan of their own.
  DevicePlan& r = ex_.received;
  r.tokens = n, r.experts = mine, r.k = 1, r.capacity = 0;
  b.reshape(r.slot_expert, 1, n, DType::i32);
  b.reshape(r.slot_weight, 1, n);
  if (n > 0) b.upload(r.slot_expert, expert_of.data());
  b.fill(r.slot_weight, 1.0);
  b.build_plan(r);
  b.reshape(ex_.sorted_out, D_, n);
  b.routed_ffn_forward(r, experts_, act_, ex_.sorted, false, ex_.sorted_out, ex_.cache);
  // Back to the arrival order, back to the processes the slots came from, combined with their weights.
  b.reshape(ex_.arrived, D_, n);
  if (ex_.in_order) b.copy(ex_.sorted_out, ex_.arrived);
  else b.gather_columns(ex_.sorted_out, ex_.inverse, ex_.arrived);
  exchange_columns(ex_.arrived, ex_.recv_cols, ex_.send_cols, ex_.outs);
  b.copy(X, Y);
  b.combine_slots(plan_, ex_.outs, true, Y);
}

void MoeLayer::exchange_backward(const Tensor& dY, Tensor& dX) {
  Backend& b = b_;
  const std::size_t n = ex_.received.tokens;
  b.reshape(ex_.douts, D_, ex_.outs.cols());
  b.combine_slots_backward(plan_, ex_.outs, dY, ex_.douts, dw_);
  exchange_columns(ex_.douts, ex_.send_cols, ex_.recv_cols, ex_.arrived);
  b.reshape(ex_.dsorted, D_, n);
  if (ex_.in_order) b.copy(ex_.arrived, ex_.dsorted);
  else b.gather_columns(ex_.arrived, ex_.order, ex_.dsorted);
  b.reshape(ex_.dsorted_in, D_, n);  // the experts' input gradients, expert-major
  b.reshape(ex_.unused, 1, n);
  b.routed_ffn_backward(ex_.received, experts_, act_, ex_.dsorted, false, ex_.dsorted_in, dexperts_, ex_.unused,
                        ex_.cache);
  b.reshape(ex_.arrived, D_, n);
  if (ex_.in_order) b.copy(ex_.dsorted_in, ex_.arrived);
  else b.gather_columns(ex_.dsorted_in, ex_.inverse, ex_.arrived);
  exchange_columns(ex_.arrived, ex_.recv_cols, ex_.send_cols, ex_.dinputs);
  b.copy(dY, dX);
  b.combine_slots(plan_, ex_.dinputs, false, dX);
}

void MoeLayer::forward_soft(const Tensor& X, Tensor& Y) const {
  Backend& b = b_;
  const std::size_t S = Phi_.cols(), N = X.cols();
  b.reshape(L_, S, N);
  b.gemm(true, false, 1.0, Phi_, X, 0.0, L_);  // Phi^T X
  b.reshape(dispatch_, S, N);
  b.reshape(combine_, S, N);
  b.softmax_rows(L_, dispatch_);
  b.softmax_columns(L_, combine_, nullptr);
  b.reshape(slots_, D_, S);
  b.gemm(false, true, 1.0, X, dispatch_, 0.0, slots_);  // slots = X dispatch^T
  b.reshape(outs_, D_, S);
  b.routed_ffn_forward(soft_plan_, experts_, act_, slots_, false, outs_, ffn_cache_);
  b.reshape(Y, D_, N);
  b.copy(X, Y);
  b.gemm(false, false, 1.0, outs_, combine_, 1.0, Y);  // Y = X + outs combine
}

void MoeLayer::backward_soft(const Tensor& X, const Tensor& dY, Tensor& dX, bool log) {
  Backend& b = b_;
  const std::size_t S = Phi_.cols(), N = X.cols();
  b.reshape(dcombine_, S, N);
  b.gemm(true, false, 1.0, outs_, dY, 0.0, dcombine_);  // outs^T dY
  b.reshape(douts_, D_, S);
  b.gemm(false, true, 1.0, dY, combine_, 0.0, douts_);  // dY combine^T
  b.reshape(dslots_, D_, S);
  b.reshape(dw_, 1, S);
  b.routed_ffn_backward(soft_plan_, experts_, act_, douts_, false, dslots_, dexperts_, dw_, ffn_cache_);
  b.reshape(dL_, S, N);
  b.fill(dL_, 0.0);
  b.softmax_columns_backward(combine_, dcombine_, dL_);
  b.reshape(ddispatch_, S, N);
  b.gemm(true, false, 1.0, dslots_, X, 0.0, ddispatch_);  // dslots^T X
  b.softmax_rows_backward(dispatch_, ddispatch_, dL_);
  b.gemm(false, true, 1.0, X, dL_, 0.0, dPhi_);  // dPhi = X dL^T
  b.copy(dY, dX);                                // dX = dY + dslots dispatch + Phi dL
  b.gemm(false, false, 1.0, dslots_, dispatch_, 1.0, dX);
  b.gemm(false, false, 1.0, Phi_, dL_, 1.0, dX);
  if (log) {
    Tensor imp = b.tensor(E_, 1), load = b.tensor(E_, 1);
    soft_masses(imp, load);
    pending_soft_.push_back(std::move(imp));
    pending_soft_.push_back(std::move(load));
  }
}

void MoeLayer::soft_masses(Tensor& importance, Tensor& load) const {
  // importance: each expert's combine mass; load: its dispatch mass (p per expert).
  Tensor row = b_.tensor(Phi_.cols(), 1);
  b_.sum_columns(combine_, 0.0, row);
  b_.gemm(false, false, 1.0, group_, row, 0.0, importance);
  b_.sum_columns(dispatch_, 0.0, row);
  b_.gemm(false, false, 1.0, group_, row, 0.0, load);
}

void MoeLayer::backward(const Tensor& X, const Tensor& dY, Tensor& dX, Tensor& loss_sum, bool log) {
  backward_pass(X, dY, dX, loss_sum, log);
  if (log && comm_) {  // the batch's statistics now, while every process is here (collective)
    flush_log();
    log_.rank_load.push_back(ex_.expert_tokens);
  }
}

void MoeLayer::backward_pass(const Tensor& X, const Tensor& dY, Tensor& dX, Tensor& loss_sum, bool log) {
  Backend& b = b_;
  const SparseLayerSpec& s = spec_;
  const std::size_t N = X.cols();
  require(dY.rows() == D_ && dY.cols() == N, "sparse MoE layer: dY has the wrong shape");
  // Routed experts (their gradients accumulate: zeroed first), then the router.
  for (Tensor* t : {&dexperts_.W1, &dexperts_.b1, &dexperts_.W2, &dexperts_.b2}) b.fill(*t, 0.0);
  b.reshape(dX, D_, N);
  if (soft_) {
    backward_soft(X, dY, dX, log);
  } else {
    b.reshape(dw_, plan_.k, N);
    if (comm_) exchange_backward(dY, dX);
    else b.routed_ffn_backward(plan_, experts_, act_, dY, true, dX, dexperts_, dw_, ffn_cache_);
  }
  for (std::size_t j = 0; j < S_shared_; ++j) {  // the shared experts' gradients, written; dX added to
    const Tensor* sw = &shared_[4 * j];
    Tensor* sg = &dshared_[4 * j];
    b.gemm(false, true, 1.0, dY, shared_act_[j], 0.0, sg[2]);  // dW2 = dY act^T
    b.sum_columns(dY, 0.0, sg[3]);
    b.reshape(dact_, F_, N);
    b.reshape(dpre_, F_, N);
    b.gemm(true, false, 1.0, sw[2], dY, 0.0, dact_);  // dact = W2^T dY
    b.activation_backward(act_, shared_pre_[j], dact_, dpre_);
    b.gemm(false, true, 1.0, dpre_, X, 0.0, sg[0]);  // dW1 = dpre X^T
    b.sum_columns(dpre_, 0.0, sg[1]);
    b.gemm(true, false, 1.0, sw[0], dpre_, 1.0, dX);  // dX += W1^T dpre
  }
  if (soft_) return;  // no plan, no auxiliary losses
  // This step's routing sums and auxiliary losses, for the routing log (read back when asked for).
  if (log) {
    pending_sums_.push_back(b.zeros(3 * E_ + 2, 1));
    b.routing_counts(plan_, pending_sums_.back());
    pending_aux_.emplace_back();
    for (int i = 0; i < 4; ++i) pending_aux_.back().push_back(b.zeros(1, 1));
  }
  // Each auxiliary loss: its value (in aux_value_) kept for the log and added, weighted x N, to the loss sum.
  auto record = [&](std::size_t which, double weight) {
    if (log) b.copy(aux_value_, pending_aux_.back()[which]);
    b.axpy(weight * double(N), aux_value_, loss_sum);
  };
  if (s.w_importance > 0) {  // through the slot weights: added to dw before the router's backward
    b.fill(aux_value_, 0.0);
    b.importance_loss(plan_, s.w_importance, aux_value_, dw_, shard_.get());
    record(0, s.w_importance);
  }
  // The router's backward around the losses on its logits: dL/d slot weights into dL/d logits (with the
  // router's own loss), the Switch and z-losses added, then the router's parameters and dL/dX.
  b.reshape(dL_, E_, N);
  router_->backward_weights(plan_, dw_, dL_, RouterLossSink{aux_value_, record}, shard_.get());
  if (router_->logits()) {
    if (s.switch_alpha > 0) {
      b.fill(aux_value_, 0.0);
      b.switch_loss(*router_->logits(), *router_->probs(), s.switch_alpha, aux_value_, dL_, shard_.get());
      record(2, s.switch_alpha);
    }
    if (s.z_loss > 0) {
      b.fill(aux_value_, 0.0);
      b.z_loss(*router_->probs(), *router_->lse(), s.z_loss, aux_value_, dL_, shard_.get());
      record(3, s.z_loss);
    }
  }
  router_->backward_logits(X, dL_, dX);
}

void MoeLayer::end_step() {
  ++noise_step_;
  if (router_) router_->end_step(plan_, shard_.get());  // the step's plan, after its gradients
}

std::size_t MoeLayer::kept_assignments() const {
  if (soft_ || plan_.expert_offsets.empty()) return 0;
  std::vector<std::int64_t> offsets(E_ + 1);
  b_.download(plan_.expert_offsets, offsets.data());
  return std::size_t(offsets[E_]);
}

RoutingStats MoeLayer::stats_from_sums(const Tensor& sums) const {
  std::vector<double> c = b_.to_host(sums);
  if (comm_) comm_->allreduce_sum(c.data(), c.size());  // the batch's sums (collective)
  return routing_stats_from_counts(c, E_);
}

RoutingStats MoeLayer::stats() const {
  if (soft_) {
    Tensor imp = b_.tensor(E_, 1), load = b_.tensor(E_, 1);
    soft_masses(imp, load);
    return routing_stats(arma::vec(b_.to_host(imp)), arma::vec(b_.to_host(load)), 0.0, 0.0);
  }
  Tensor sums = b_.zeros(3 * E_ + 2, 1);
  b_.routing_counts(plan_, sums);
  return stats_from_sums(sums);
}

arma::mat MoeLayer::gate() const {
  if (soft_) {  // each expert's combine mass for each token
    Tensor gate = b_.tensor(E_, combine_.cols());
    b_.gemm(false, false, 1.0, group_, combine_, 0.0, gate);
    return download_matrix(b_, gate);
  }
  // The kept slots' weights (evaluation is dropless: every routed slot).
  const std::size_t k = plan_.k, N = plan_.tokens;
  std::vector<std::int32_t> se(k * N);
  if (!se.empty()) b_.download(plan_.slot_expert, se.data());
  const std::vector<double> w = N > 0 ? b_.to_host(plan_.slot_weight) : std::vector<double>{};
  arma::mat G(E_, N, arma::fill::zeros);
  for (std::size_t n = 0; n < N; ++n)
    for (std::size_t s = 0; s < k; ++s)
      if (se[n * k + s] >= 0) G(arma::uword(se[n * k + s]), n) += w[n * k + s];
  return G;
}

const RoutingLog& MoeLayer::routing_log() const {
  flush_log();  // under expert parallelism nothing is pending: backward flushed each step
  return log_;
}

void MoeLayer::flush_log() const {
  const SparseLayerSpec& s = spec_;
  for (std::size_t i = 0; i + 1 < pending_soft_.size(); i += 2)  // nothing dropped, no auxiliary losses
    log_.add(routing_stats(arma::vec(b_.to_host(pending_soft_[i])), arma::vec(b_.to_host(pending_soft_[i + 1])), 0.0,
                           0.0),
             AuxLosses{});
  pending_soft_.clear();
  for (std::size_t i = 0; i < pending_sums_.size(); ++i) {
    double a[4];
    for (int j = 0; j < 4; ++j) a[j] = b_.scalar(pending_aux_[i][std::size_t(j)]);
    AuxLosses aux;
    aux.importance = a[0], aux.load = a[1], aux.switch_aux = a[2], aux.z = a[3];
    aux.total = s.w_importance * a[0] + s.w_load * a[1] + s.switch_alpha * a[2] + s.z_loss * a[3];
    log_.add(stats_from_sums(pending_sums_[i]), aux);
  }
  pending_sums_.clear();
  pending_aux_.clear();
}

namespace {
// Soft MoE is computed by the layer itself (forward_soft), so its registry entry lives here.
const RouterRegistration registered{{
    .name = "soft",
    .help = "Soft MoE (Puigcerver et al. 2023): each expert's --slots-per-expert slots take softmax-weighted "
            "mixtures of all tokens; no routing plan, nothing dropped",
    .traits = {.routed = false, .batch_wide_in_training = true, .batch_wide_in_evaluation = true, .has_logits = false},
    .flags = {"slots-per-expert"},
    .validate =
        [](const SparseLayerSpec& s, arma::uword) {
          require(s.slots_per_expert >= 1 && s.slots_per_expert <= 65536,
                  "--slots-per-expert must be between 1 and 65536 (got " + std::to_string(s.slots_per_expert) + ")");
        },
    .make = {},
}};
}  // namespace

}  // namespace moe
