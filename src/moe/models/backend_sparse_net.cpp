#include "moe/models/backend_sparse_net.hpp"

#include <cmath>

#include "moe/backend/routing_plan.hpp"
#include "moe/core/error.hpp"
#include "moe/models/sparse_net.hpp"
#include "moe/sparse/routing_stats.hpp"
#include "moe/sparse/token_noise.hpp"
#include "moe/sparse/ffn_experts.hpp"

namespace moe {

namespace {

void upload_matrix(Backend& b, Tensor& t, const arma::mat& M) {
  b.reshape(t, M.n_rows, M.n_cols);
  if (M.n_elem > 0) b.upload(t, M.memptr());
}

arma::mat download_matrix(const Backend& b, const Tensor& t) {
  arma::mat M(t.rows(), t.cols());
  if (M.n_elem > 0) b.download(t, M.memptr());
  return M;
}

}  // namespace

BackendSparseNet::BackendSparseNet(const ModelSpec& spec, std::unique_ptr<Backend> backend)
    : spec_(spec), b_(std::move(backend)) {
  spec_.validate();
  const SparseLayerSpec& s = spec_.sparse;
  if (s.router == "topk" || s.router == "switch") scores_ = Scores::softmax;
  else if (s.router == "noisy-topk") scores_ = Scores::noisy;
  else if (s.router == "gshard") scores_ = Scores::gshard;
  else if (s.router == "expert-choice") scores_ = Scores::expert_choice;
  else if (s.router == "balanced") scores_ = Scores::balanced;
  else if (s.router == "soft") scores_ = Scores::soft;
  else if (s.router == "loss-free") scores_ = Scores::biased_softmax;
  else if (s.router == "sigmoid-topk") scores_ = Scores::biased_sigmoid;
  else if (s.router == "hash") scores_ = Scores::hash;
  else fail("the backend sparse network has no router " + s.router);
  D_ = s.model_dim, F_ = s.ff_dim, E_ = spec_.experts, d_ = spec_.inputs, m_ = spec_.outputs, S_shared_ = s.shared_experts;
  k_ = s.router == "switch" || s.router == "hash" || s.router == "balanced" ? 1 : s.router == "gshard" ? 2 : s.top_k;
  renormalize_ = scores_ == Scores::noisy || scores_ == Scores::gshard ||
                 (scores_ != Scores::expert_choice && scores_ != Scores::balanced && (s.router != "switch" && s.router != "hash" && s.renormalize));
  Wn_.zeros(E_, D_);
  if (scores_ == Scores::soft) {
    const std::size_t p = s.slots_per_expert, S = E_ * p;
    Wr_.zeros(D_, S);
    std::vector<std::int32_t> expert(S);
    std::vector<double> ones(S, 1.0), group(E_ * S, 0.0);
    for (std::size_t j = 0; j < S; ++j) expert[j] = std::int32_t(j / p), group[j * E_ + j / p] = 1.0;
    soft_plan_.tokens = S, soft_plan_.experts = E_, soft_plan_.k = 1, soft_plan_.capacity = 0;
    soft_plan_.slot_expert = b_->tensor(1, S, DType::i32);
    soft_plan_.slot_weight = b_->tensor(1, S);
    b_->upload(soft_plan_.slot_expert, expert.data());
    b_->upload(soft_plan_.slot_weight, ones.data());
    b_->build_plan(soft_plan_);
    group_ = b_->tensor(E_, S);
    b_->upload(group_, group.data());
  }
  bias_ = b_->zeros(E_, 1);
  bias_host_.zeros(E_, 1);
  allocate(w_);
  allocate(g_);
  allocate(m1_);
  allocate(m2_);
  for (Tensor* t : list(m1_)) b_->fill(*t, 0.0);
  for (Tensor* t : list(m2_)) b_->fill(*t, 0.0);
  loss_sum_ = b_->zeros(1, 1);
  aux_value_ = b_->zeros(1, 1);
  Win_.zeros(D_, d_), bin_.zeros(D_, 1), Wout_.zeros(m_, D_), bout_.zeros(m_, 1);
  if (scores_ != Scores::soft) Wr_.zeros(E_, D_);  // soft: Phi, D x S, set above
  W1_.assign(E_, arma::mat(F_, D_, arma::fill::zeros));
  b1_.assign(E_, arma::mat(F_, 1, arma::fill::zeros));
  W2_.assign(E_, arma::mat(D_, F_, arma::fill::zeros));
  b2_.assign(E_, arma::mat(D_, 1, arma::fill::zeros));
  for (std::size_t j = 0; j < S_shared_; ++j)
    for (const auto& [rows, cols] : {std::pair{F_, D_}, std::pair{F_, std::size_t(1)}, std::pair{D_, F_}, std::pair{D_, std::size_t(1)}})
      shared_host_.emplace_back(rows, cols, arma::fill::zeros);
  shared_pre_.resize(S_shared_);
  shared_act_.resize(S_shared_);
}

void BackendSparseNet::allocate(Weights& w) {
  w.W_in = b_->tensor(D_, d_);
  w.b_in = b_->tensor(D_, 1);
  w.W_r = scores_ == Scores::soft ? b_->tensor(D_, E_ * spec_.sparse.slots_per_expert) : b_->tensor(E_, D_);
  w.W_noise = b_->tensor(E_, D_);
  w.W_out = b_->tensor(m_, D_);
  w.b_out = b_->tensor(m_, 1);
  w.experts = {b_->tensor(F_, D_ * E_), b_->tensor(F_, E_), b_->tensor(D_, F_ * E_), b_->tensor(D_, E_)};
  w.shared.clear();
  for (std::size_t j = 0; j < S_shared_; ++j) {
    w.shared.push_back(b_->tensor(F_, D_));
    w.shared.push_back(b_->tensor(F_, 1));
    w.shared.push_back(b_->tensor(D_, F_));
    w.shared.push_back(b_->tensor(D_, 1));
  }
}

std::vector<Tensor*> BackendSparseNet::list(Weights& w) const {
  std::vector<Tensor*> out = {&w.W_in, &w.b_in, &w.W_out, &w.b_out, &w.experts.W1, &w.experts.b1, &w.experts.W2,
                              &w.experts.b2};
  if (scores_ != Scores::hash) out.push_back(&w.W_r);
  if (scores_ == Scores::noisy) out.push_back(&w.W_noise);
  for (Tensor& t : w.shared) out.push_back(&t);
  return out;
}

void BackendSparseNet::init(Rng& rng) {
  Win_ = rng.normal_matrix(D_, d_, 1.0 / std::sqrt(double(d_)));
  Wout_ = rng.normal_matrix(m_, D_, 1.0 / std::sqrt(double(D_)));
  bin_.zeros(), bout_.zeros();
  const double scale = spec_.sparse.init_scale();
  auto router_weights = [&] {
    return scale == 0.0 ? arma::mat(E_, D_, arma::fill::zeros) : rng.normal_matrix(E_, D_, scale / std::sqrt(double(D_)));
  };
  if (scores_ == Scores::soft)
    Wr_ = rng.normal_matrix(D_, Wr_.n_cols, scale / std::sqrt(double(D_)));
  else if (scores_ != Scores::hash)
    Wr_ = router_weights();
  if (scores_ == Scores::noisy) Wn_ = router_weights();
  bias_host_.zeros();
  for (std::size_t e = 0; e < E_; ++e) {
    W1_[e] = rng.normal_matrix(F_, D_, 1.0 / std::sqrt(double(D_)));
    W2_[e] = rng.normal_matrix(D_, F_, 1.0 / std::sqrt(double(F_)));
    b1_[e].zeros(), b2_[e].zeros();
  }
  for (std::size_t j = 0; j < S_shared_; ++j) {  // SparseNet's shared bank draws after the routed one
    shared_host_[4 * j] = rng.normal_matrix(F_, D_, 1.0 / std::sqrt(double(D_)));
    shared_host_[4 * j + 2] = rng.normal_matrix(D_, F_, 1.0 / std::sqrt(double(F_)));
    shared_host_[4 * j + 1].zeros(), shared_host_[4 * j + 3].zeros();
  }
  noise_seed_ = rng.below(~std::uint64_t(0));  // where SparseNet's layer draws it
  noise_step_ = 0;
  from_host();
}

void BackendSparseNet::collect(ParamList& params) { collect_into(params, false); }
void BackendSparseNet::collect_state(ParamList& params) { collect_into(params, true); }

void BackendSparseNet::collect_into(ParamList& params, bool state) {
  host_grads_.clear();
  host_grads_.reserve(7 + 4 * (E_ + S_shared_));  // ParamList keeps pointers: no reallocation while adding
  auto add = [&](const std::string& name, arma::mat& value, ParamKind kind) {
    host_grads_.emplace_back(arma::size(value), arma::fill::zeros);
    params.add(name, value, host_grads_.back(), kind);
  };
  add("embed/W", Win_, ParamKind::weight);
  add("embed/b", bin_, ParamKind::other);
  if (scores_ == Scores::noisy) {
    add("moe/router/W_g", Wr_, ParamKind::other);
    add("moe/router/W_noise", Wn_, ParamKind::other);
  } else if (scores_ == Scores::soft) {
    add("moe/router/Phi", Wr_, ParamKind::weight);
  } else if (scores_ != Scores::hash) {
    add("moe/router/W", Wr_, ParamKind::other);
  }
  for (std::size_t e = 0; e < E_; ++e) {
    const std::string p = "moe/expert" + std::to_string(e) + "/";
    add(p + "W1", W1_[e], ParamKind::weight);
    add(p + "b1", b1_[e], ParamKind::other);
    add(p + "W2", W2_[e], ParamKind::weight);
    add(p + "b2", b2_[e], ParamKind::other);
  }
  for (std::size_t j = 0; j < S_shared_; ++j) {
    const std::string p = "moe/shared/expert" + std::to_string(j) + "/";
    add(p + "W1", shared_host_[4 * j], ParamKind::weight);
    add(p + "b1", shared_host_[4 * j + 1], ParamKind::other);
    add(p + "W2", shared_host_[4 * j + 2], ParamKind::weight);
    add(p + "b2", shared_host_[4 * j + 3], ParamKind::other);
  }
  has_bias_grad_ = state && (scores_ == Scores::biased_softmax || scores_ == Scores::biased_sigmoid);
  if (has_bias_grad_) add("moe/router/bias", bias_host_, ParamKind::other);
  add("output/W", Wout_, ParamKind::weight);
  add("output/b", bout_, ParamKind::other);
}

void BackendSparseNet::visit_state(StateVisitor& v, const std::string& prefix) {
  v.signed_count(prefix + "optimizer/steps", steps_);
  v.count(prefix + "noise_seed", noise_seed_);
  v.count(prefix + "noise_step", noise_step_);
  v.matrices(prefix + "optimizer/m", m1_host_);
  v.matrices(prefix + "optimizer/v", m2_host_);
  routing_log();  // every pending step into the log first
  log_.visit_state(v, prefix + "routing/");
}

void BackendSparseNet::to_host() {
  m1_host_.clear();
  m2_host_.clear();
  for (Tensor* t : list(m1_)) m1_host_.push_back(download_matrix(*b_, *t));
  for (Tensor* t : list(m2_)) m2_host_.push_back(download_matrix(*b_, *t));
  Win_ = download_matrix(*b_, w_.W_in);
  bin_ = download_matrix(*b_, w_.b_in);
  Wr_ = download_matrix(*b_, w_.W_r);
  Wn_ = download_matrix(*b_, w_.W_noise);
  for (std::size_t i = 0; i < shared_host_.size(); ++i) shared_host_[i] = download_matrix(*b_, w_.shared[i]);
  bias_host_ = download_matrix(*b_, bias_);
  Wout_ = download_matrix(*b_, w_.W_out);
  bout_ = download_matrix(*b_, w_.b_out);
  const arma::mat W1 = download_matrix(*b_, w_.experts.W1), b1 = download_matrix(*b_, w_.experts.b1),
                  W2 = download_matrix(*b_, w_.experts.W2), b2 = download_matrix(*b_, w_.experts.b2);
  for (std::size_t e = 0; e < E_; ++e) {
    W1_[e] = W1.cols(e * D_, (e + 1) * D_ - 1);
    b1_[e] = b1.col(e);
    W2_[e] = W2.cols(e * F_, (e + 1) * F_ - 1);
    b2_[e] = b2.col(e);
  }
}

void BackendSparseNet::from_host() {
  const std::vector<Tensor*> m1 = list(m1_), m2 = list(m2_);
  if (!m1_host_.empty()) {  // restored from a checkpoint (or copied out before): the moments go back too
    require(m1_host_.size() == m1.size() && m2_host_.size() == m2.size(),
            "checkpoint: the optimiser state does not fit this network");
    for (std::size_t i = 0; i < m1.size(); ++i) {
      require(m1_host_[i].n_rows == m1[i]->rows() && m1_host_[i].n_cols == m1[i]->cols() &&
                  arma::size(m2_host_[i]) == arma::size(m1_host_[i]),
              "checkpoint: the optimiser state does not fit this network");
      upload_matrix(*b_, *m1[i], m1_host_[i]);
      upload_matrix(*b_, *m2[i], m2_host_[i]);
    }
  }
  upload_matrix(*b_, w_.W_in, Win_);
  upload_matrix(*b_, w_.b_in, bin_);
  upload_matrix(*b_, w_.W_r, Wr_);
  upload_matrix(*b_, w_.W_noise, Wn_);
  for (std::size_t i = 0; i < shared_host_.size(); ++i) upload_matrix(*b_, w_.shared[i], shared_host_[i]);
  upload_matrix(*b_, bias_, bias_host_);
  upload_matrix(*b_, w_.W_out, Wout_);
  upload_matrix(*b_, w_.b_out, bout_);
  arma::mat W1(F_, D_ * E_), b1(F_, E_), W2(D_, F_ * E_), b2(D_, E_);
  for (std::size_t e = 0; e < E_; ++e) {
    W1.cols(e * D_, (e + 1) * D_ - 1) = W1_[e];
    b1.col(e) = b1_[e];
    W2.cols(e * F_, (e + 1) * F_ - 1) = W2_[e];
    b2.col(e) = b2_[e];
  }
  upload_matrix(*b_, w_.experts.W1, W1);
  upload_matrix(*b_, w_.experts.b1, b1);
  upload_matrix(*b_, w_.experts.W2, W2);
  upload_matrix(*b_, w_.experts.b2, b2);
}

void BackendSparseNet::upcycle_from(Model& dense) {
  const ModelSpec& d = dense.spec();
  require(d.kind == "sparse" && d.experts == 1 && d.sparse.shared_experts == 0,
          "upcycling: the dense model must be --model sparse with exactly 1 expert and no shared experts");
  require(d.inputs == spec_.inputs && d.outputs == spec_.outputs && d.sparse.model_dim == spec_.sparse.model_dim &&
              d.sparse.ff_dim == spec_.sparse.ff_dim && d.sparse.ffn_activation == spec_.sparse.ffn_activation,
          "upcycling: the dense model's inputs, outputs, --d-model, --d-ff or --ffn-activation differ from this run's");
  ParamList p;
  dense.collect(p);
  auto value = [&](const std::string& name) -> const arma::mat& {
    const Param* q = p.find(name);
    require(q != nullptr, "upcycling: the dense model has no parameter " + name);
    return *q->value;
  };
  Win_ = value("embed/W"), bin_ = value("embed/b"), Wout_ = value("output/W"), bout_ = value("output/b");
  for (std::size_t e = 0; e < E_; ++e) {
    W1_[e] = value("moe/expert0/W1"), b1_[e] = value("moe/expert0/b1");
    W2_[e] = value("moe/expert0/W2"), b2_[e] = value("moe/expert0/b2");
  }
  from_host();
}

void BackendSparseNet::start(const BackendOptimizer& optimizer) {
  opt_ = optimizer;
  from_host();  // the host copies may have been loaded or restored
}

void BackendSparseNet::upload_batch(const arma::mat& X, const arma::mat* Y) const {
  require(X.n_rows == d_ && (!Y || (Y->n_rows == m_ && Y->n_cols == X.n_cols)),
          "backend sparse net: a batch of the wrong shape");
  upload_matrix(*b_, X_, X);
  if (Y) upload_matrix(*b_, Y_, *Y);
  if (scores_ == Scores::hash) {
    const std::vector<std::uint64_t> ids = column_hash_ids(X);
    b_->reshape(ids_, X.n_cols, 1, DType::i64);
    if (!ids.empty()) b_->upload(ids_, reinterpret_cast<const std::int64_t*>(ids.data()));
  }
}

void BackendSparseNet::set_data(const arma::mat& X, const arma::mat& Y) {
  require(X.n_rows == d_ && Y.n_rows == m_ && X.n_cols == Y.n_cols, "backend sparse net: a data set of the wrong shape");
  upload_matrix(*b_, data_X_, X);
  upload_matrix(*b_, data_Y_, Y);
  if (scores_ == Scores::hash) data_ids_ = column_hash_ids(X);
}

void BackendSparseNet::step_on(const arma::uvec& columns) {
  require(!data_X_.empty() || columns.is_empty(), "backend sparse net: step_on before set_data");
  const std::size_t N = columns.n_elem;
  std::vector<std::int64_t> ids(columns.begin(), columns.end());
  b_->reshape(batch_idx_, N, 1, DType::i64);
  if (N > 0) b_->upload(batch_idx_, ids.data());
  b_->reshape(X_, d_, N);
  b_->reshape(Y_, m_, N);
  b_->gather_columns(data_X_, batch_idx_, X_);
  b_->gather_columns(data_Y_, batch_idx_, Y_);
  if (scores_ == Scores::hash) {
    std::vector<std::int64_t> batch_ids(N);
    for (std::size_t j = 0; j < N; ++j) batch_ids[j] = std::int64_t(data_ids_[columns[j]]);
    b_->reshape(ids_, N, 1, DType::i64);
    if (N > 0) b_->upload(ids_, batch_ids.data());
  }
  forward(N, true);
  backward(N, true);
  update();
}

void BackendSparseNet::step(const arma::mat& X, const arma::mat& Y) {
  upload_batch(X, &Y);
  forward(X.n_cols, true);
  backward(X.n_cols, true);
  update();
}

void BackendSparseNet::forward(std::size_t N, bool training) const {
  Backend& b = *b_;
  const SparseLayerSpec& s = spec_.sparse;
  b.reshape(H0_, D_, N);
  b.gemm(false, false, 1.0, w_.W_in, X_, 0.0, H0_);  // H0 = W_in X + b_in
  b.add_columns(H0_, w_.b_in);
  const FfnActivation act = parse_ffn_activation(s.ffn_activation);
  if (scores_ == Scores::soft) {
    forward_soft(N);
  } else {
    route_and_run(N, training, act);
  }
  for (std::size_t j = 0; j < S_shared_; ++j) {  // H1 += W2_j act(W1_j H0 + b1_j) + b2_j
    const Tensor* sw = &w_.shared[4 * j];
    b.reshape(shared_pre_[j], F_, N);
    b.reshape(shared_act_[j], F_, N);
    b.gemm(false, false, 1.0, sw[0], H0_, 0.0, shared_pre_[j]);
    b.add_columns(shared_pre_[j], sw[1]);
    b.activation_forward(act, shared_pre_[j], shared_act_[j]);
    b.gemm(false, false, 1.0, sw[2], shared_act_[j], 1.0, H1_);
    b.add_columns(H1_, sw[3]);
  }
  b.reshape(Z_, m_, N);
  b.gemm(false, false, 1.0, w_.W_out, H1_, 0.0, Z_);  // Z = W_out H1 + b_out
  b.add_columns(Z_, w_.b_out);
}

void BackendSparseNet::route_and_run(std::size_t N, bool training, FfnActivation act) const {
  Backend& b = *b_;
  const SparseLayerSpec& s = spec_.sparse;
  plan_.tokens = N, plan_.experts = E_, plan_.k = k_;
  plan_.capacity = training ? expert_capacity(N, E_, k_, s.capacity_factor) : 0;  // evaluation: dropless
  b.reshape(plan_.slot_expert, k_, N, DType::i32);
  b.reshape(plan_.slot_weight, k_, N);
  if (scores_ == Scores::hash) {
    b.hash_experts(ids_, E_, plan_.slot_expert);
    b.fill(plan_.slot_weight, 1.0);
  } else {
    b.reshape(L_, E_, N);
    b.gemm(false, false, 1.0, w_.W_r, H0_, 0.0, L_);  // L = W_r H0
    b.reshape(P_, E_, N);
    b.reshape(lse_, 1, N);
    b.softmax_columns(L_, P_, &lse_);  // for the weights, the Switch loss and the z-loss
    if (scores_ == Scores::softmax) {
      b.top_k(L_, nullptr, k_, plan_.slot_expert);
      b.slot_weights(P_, plan_.slot_expert, renormalize_, plan_.slot_weight);
    } else if (scores_ == Scores::balanced) {  // training: a balanced assignment; evaluation: greedy top 1
      if (training && N > 0) {
        plan_.capacity = expert_capacity(N, E_, 1, 1.0);
        b.balanced_assignment(L_, plan_.capacity, 1e-4, plan_.slot_expert);
      } else {
        plan_.capacity = 0;
        b.top_k(L_, nullptr, 1, plan_.slot_expert);
      }
      b.sigmoid_slot_weights(L_, plan_.slot_expert, false, plan_.slot_weight);  // sigmoid of the logit
    } else if (scores_ == Scores::expert_choice) {  // the whole batch, in training and evaluation alike
      const double c = s.capacity_factor > 0.0 ? s.capacity_factor : double(s.top_k);
      plan_.capacity = std::min(N, expert_capacity(N, E_, 1, c));
      b.expert_choice(P_, plan_.capacity, plan_);
    } else if (scores_ == Scores::gshard) {
      // The top 2, weights normalised over both; in training the second is kept at random.
      b.reshape(top2_, 2, N, DType::i32);
      b.top_k(L_, nullptr, 2, top2_);
      b.copy(top2_, plan_.slot_expert);
      b.slot_weights(P_, top2_, true, plan_.slot_weight);
      if (training) {
        Rng noise = Rng(noise_seed_).stream(noise_step_);
        const arma::mat draws = token_draws(1, arma::uword(N), &noise, false, 0);
        b.reshape(u_, 1, N);
        b.upload(u_, draws.memptr());
        b.random_second_choice(P_, u_, spec_.sparse.gshard_threshold, plan_.slot_expert, plan_.slot_weight);
      }
    } else if (scores_ == Scores::noisy) {
      // H = L + eps softplus(W_noise H0) in training (eps of this step's stream), L in evaluation.
      b.reshape(Nl_, E_, N);
      b.gemm(false, false, 1.0, w_.W_noise, H0_, 0.0, Nl_);
      b.reshape(eps_, E_, N);
      if (training) {
        Rng noise = Rng(noise_seed_).stream(noise_step_);
        const arma::mat draws = token_draws(arma::uword(E_), arma::uword(N), &noise, true, 0);
        b.upload(eps_, draws.memptr());
      } else {
        b.fill(eps_, 0.0);
      }
      b.reshape(Hn_, E_, N);
      b.noisy_logits(L_, Nl_, eps_, Hn_);
      b.reshape(Pn_, E_, N);
      b.softmax_columns(Hn_, Pn_, nullptr);
      b.top_k(Hn_, nullptr, k_, plan_.slot_expert);
      b.slot_weights(Pn_, plan_.slot_expert, true, plan_.slot_weight);
    } else if (scores_ == Scores::biased_softmax) {
      b.top_k(P_, &bias_, k_, plan_.slot_expert);  // the bias: selection only
      b.slot_weights(P_, plan_.slot_expert, renormalize_, plan_.slot_weight);
    } else {
      b.reshape(S_, E_, N);
      b.sigmoid(L_, S_);
      b.top_k(S_, &bias_, k_, plan_.slot_expert);
      b.sigmoid_slot_weights(L_, plan_.slot_expert, renormalize_, plan_.slot_weight);
    }
  }
  b.build_plan(plan_);
  b.reshape(H1_, D_, N);
  b.routed_ffn_forward(plan_, w_.experts, act, H0_, true, H1_, ffn_cache_);
}

void BackendSparseNet::forward_soft(std::size_t N) const {
  Backend& b = *b_;
  const std::size_t S = w_.W_r.cols();
  b.reshape(L_, S, N);
  b.gemm(true, false, 1.0, w_.W_r, H0_, 0.0, L_);  // Phi^T H0
  b.reshape(dispatch_, S, N);
  b.reshape(combine_, S, N);
  b.softmax_rows(L_, dispatch_);
  b.softmax_columns(L_, combine_, nullptr);
  b.reshape(slots_, D_, S);
  b.gemm(false, true, 1.0, H0_, dispatch_, 0.0, slots_);  // slots = H0 dispatch^T
  b.reshape(outs_, D_, S);
  b.routed_ffn_forward(soft_plan_, w_.experts, parse_ffn_activation(spec_.sparse.ffn_activation), slots_, false, outs_,
                       ffn_cache_);
  b.reshape(H1_, D_, N);
  b.copy(H0_, H1_);
  b.gemm(false, false, 1.0, outs_, combine_, 1.0, H1_);  // H1 = H0 + outs combine
}

void BackendSparseNet::backward_soft(std::size_t N, bool log) {
  Backend& b = *b_;
  const std::size_t S = w_.W_r.cols();
  const FfnActivation act = parse_ffn_activation(spec_.sparse.ffn_activation);
  b.reshape(dcombine_, S, N);
  b.gemm(true, false, 1.0, outs_, dH1_, 0.0, dcombine_);  // outs^T dH1
  b.reshape(douts_, D_, S);
  b.gemm(false, true, 1.0, dH1_, combine_, 0.0, douts_);  // dH1 combine^T
  b.reshape(dslots_, D_, S);
  Tensor dw = b.tensor(1, S);
  b.routed_ffn_backward(soft_plan_, w_.experts, act, douts_, false, dslots_, g_.experts, dw, ffn_cache_);
  b.reshape(dL_, S, N);
  b.fill(dL_, 0.0);
  b.softmax_columns_backward(combine_, dcombine_, dL_);
  b.reshape(ddispatch_, S, N);
  b.gemm(true, false, 1.0, dslots_, H0_, 0.0, ddispatch_);  // dslots^T H0
  b.softmax_rows_backward(dispatch_, ddispatch_, dL_);
  b.gemm(false, true, 1.0, H0_, dL_, 0.0, g_.W_r);  // dPhi = H0 dL^T
  b.copy(dH1_, dH0_);                               // dH0 = dH1 + dslots dispatch + Phi dL
  b.gemm(false, false, 1.0, dslots_, dispatch_, 1.0, dH0_);
  b.gemm(false, false, 1.0, w_.W_r, dL_, 1.0, dH0_);
  if (log) {
    Tensor imp = b.tensor(E_, 1), load = b.tensor(E_, 1);
    soft_masses(imp, load);
    pending_soft_.push_back(std::move(imp));
    pending_soft_.push_back(std::move(load));
  }
}

void BackendSparseNet::soft_masses(Tensor& importance, Tensor& load) const {
  // importance: each expert's combine mass; load: its dispatch mass (p per expert).
  Tensor row = b_->tensor(w_.W_r.cols(), 1);
  b_->sum_columns(combine_, 0.0, row);
  b_->gemm(false, false, 1.0, group_, row, 0.0, importance);
  b_->sum_columns(dispatch_, 0.0, row);
  b_->gemm(false, false, 1.0, group_, row, 0.0, load);
}

RoutingStats BackendSparseNet::stats_from_sums(const Tensor& sums) const {
  const std::vector<double> c = b_->to_host(sums);
  arma::vec importance(E_), load(E_);
  double kept = 0, routed = 0;
  for (std::size_t e = 0; e < E_; ++e) {
    load[e] = c[e];
    importance[e] = c[2 * E_ + e];
    kept += c[e];
    routed += c[E_ + e];
  }
  const double tokens = c[3 * E_ + 1];
  return routing_stats(importance, load, routed > 0 ? (routed - kept) / routed : 0.0,
                       tokens > 0 ? c[3 * E_] / tokens : 0.0);
}

std::vector<RoutingStats> BackendSparseNet::routing(const arma::mat& X) const {
  upload_batch(X, nullptr);
  forward(X.n_cols, false);
  if (scores_ == Scores::soft) {
    Tensor imp = b_->tensor(E_, 1), load = b_->tensor(E_, 1);
    soft_masses(imp, load);
    return {routing_stats(arma::vec(b_->to_host(imp)), arma::vec(b_->to_host(load)), 0.0, 0.0)};
  }
  Tensor sums = b_->zeros(3 * E_ + 2, 1);
  b_->routing_counts(plan_, sums);
  return {stats_from_sums(sums)};
}

void BackendSparseNet::task_loss(std::size_t N, Tensor* dZ) const {
  b_->reshape(loss_cols_, 1, N);
  if (dZ) b_->reshape(*dZ, m_, N);
  if (spec_.task == Task::classification) b_->softmax_cross_entropy(Z_, Y_, 1.0 / double(N), loss_cols_, dZ);
  else b_->squared_error(Z_, Y_, 1.0 / double(N), loss_cols_, dZ);
}

void BackendSparseNet::backward(std::size_t N, bool log) {
  Backend& b = *b_;
  const SparseLayerSpec& s = spec_.sparse;
  task_loss(N, &dZ_);
  b.sum_into(loss_cols_, 1.0, loss_sum_);  // the batch's summed loss (take_loss_sum: mean x columns)
  // Output layer: dW_out = dZ H1^T, db_out = sum dZ, dH1 = W_out^T dZ (gradients written, not added).
  b.gemm(false, true, 1.0, dZ_, H1_, 0.0, g_.W_out);
  b.sum_columns(dZ_, 0.0, g_.b_out);
  b.reshape(dH1_, D_, N);
  b.gemm(true, false, 1.0, w_.W_out, dZ_, 0.0, dH1_);
  // Routed experts (their gradients accumulate: zeroed first), then the router.
  for (Tensor* t : {&g_.experts.W1, &g_.experts.b1, &g_.experts.W2, &g_.experts.b2}) b.fill(*t, 0.0);
  b.reshape(dH0_, D_, N);
  const FfnActivation act = parse_ffn_activation(s.ffn_activation);
  if (scores_ == Scores::soft) {
    backward_soft(N, log);
  } else {
    b.reshape(dw_, plan_.k, N);
    b.routed_ffn_backward(plan_, w_.experts, act, dH1_, true, dH0_, g_.experts, dw_, ffn_cache_);
  }
  for (std::size_t j = 0; j < S_shared_; ++j) {  // the shared experts' gradients, written; dH0 added to
    const Tensor* sw = &w_.shared[4 * j];
    Tensor* sg = &g_.shared[4 * j];
    b.gemm(false, true, 1.0, dH1_, shared_act_[j], 0.0, sg[2]);  // dW2 = dH1 act^T
    b.sum_columns(dH1_, 0.0, sg[3]);
    b.reshape(dact_, F_, N);
    b.reshape(dpre_, F_, N);
    b.gemm(true, false, 1.0, sw[2], dH1_, 0.0, dact_);  // dact = W2^T dH1
    b.activation_backward(act, shared_pre_[j], dact_, dpre_);
    b.gemm(false, true, 1.0, dpre_, H0_, 0.0, sg[0]);  // dW1 = dpre H0^T
    b.sum_columns(dpre_, 0.0, sg[1]);
    b.gemm(true, false, 1.0, sw[0], dpre_, 1.0, dH0_);  // dH0 += W1^T dpre
  }
  if (scores_ == Scores::soft) {  // no plan, no auxiliary losses: the embedding's gradients and done
    b.gemm(false, true, 1.0, dH0_, X_, 0.0, g_.W_in);
    b.sum_columns(dH0_, 0.0, g_.b_in);
    return;
  }
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
    b.axpy(weight * double(N), aux_value_, loss_sum_);
  };
  if (s.w_importance > 0) {  // through the slot weights: added to dw before the router's backward
    b.fill(aux_value_, 0.0);
    b.importance_loss(plan_, s.w_importance, aux_value_, dw_);
    record(0, s.w_importance);
  }
  if (scores_ == Scores::hash) {
    b.gemm(false, true, 1.0, dH0_, X_, 0.0, g_.W_in);
    b.sum_columns(dH0_, 0.0, g_.b_in);
    return;
  }
  b.reshape(dL_, E_, N);
  b.fill(dL_, 0.0);
  if (scores_ == Scores::biased_sigmoid || scores_ == Scores::balanced) {
    b.sigmoid_slot_weights_backward(L_, plan_.slot_expert, renormalize_, dw_, dL_);
  } else if (scores_ == Scores::noisy) {  // dH from the weights: dL = dH, dN = dH eps sigmoid(N)
    b.reshape(dN_, E_, N);
    b.fill(dN_, 0.0);
    b.slot_weights_backward(Pn_, plan_.slot_expert, true, dw_, dL_);
    b.noisy_logits_backward(Nl_, eps_, dL_, dN_);
    if (s.w_load > 0) {
      b.fill(aux_value_, 0.0);
      b.smooth_load_loss(L_, Nl_, Hn_, eps_, k_, s.w_load, aux_value_, dL_, dN_);
      record(1, s.w_load);
    }
    b.gemm(false, true, 1.0, dN_, H0_, 0.0, g_.W_noise);  // dW_noise = dN H0^T
    b.gemm(true, false, 1.0, w_.W_noise, dN_, 1.0, dH0_);  // dH0 += W_noise^T dN
  } else if (scores_ == Scores::gshard) {  // normalised over both of the top 2, kept or not
    b.slot_weights_backward(P_, top2_, true, dw_, dL_);
  } else {
    b.slot_weights_backward(P_, plan_.slot_expert, renormalize_, dw_, dL_);
  }
  // Auxiliary losses: their weighted values x N join the summed task loss; gradients weighted.
  if (s.switch_alpha > 0) {
    b.fill(aux_value_, 0.0);
    b.switch_loss(L_, P_, s.switch_alpha, aux_value_, dL_);
    record(2, s.switch_alpha);
  }
  if (s.z_loss > 0) {
    b.fill(aux_value_, 0.0);
    b.z_loss(P_, lse_, s.z_loss, aux_value_, dL_);
    record(3, s.z_loss);
  }
  b.gemm(false, true, 1.0, dL_, H0_, 0.0, g_.W_r);  // dW_r = dL H0^T
  b.gemm(true, false, 1.0, w_.W_r, dL_, 1.0, dH0_);  // dH0 += W_r^T dL
  b.gemm(false, true, 1.0, dH0_, X_, 0.0, g_.W_in);  // dW_in = dH0 X^T
  b.sum_columns(dH0_, 0.0, g_.b_in);
}

void BackendSparseNet::update() {
  ++steps_;
  ++noise_step_;  // SparseNet's end_step
  if (scores_ == Scores::biased_softmax || scores_ == Scores::biased_sigmoid)
    b_->bias_update(plan_, spec_.sparse.bias_rate, bias_);  // the step's plan, after its gradients
  const std::vector<Tensor*> w = list(w_), g = list(g_), m1 = list(m1_), m2 = list(m2_);
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (opt_.name == "adam")
      b_->adam(*w[i], *g[i], *m1[i], *m2[i], AdamStep{opt_.learning_rate, opt_.beta1, opt_.beta2, opt_.epsilon, steps_},
               nullptr);
    else
      b_->momentum(*w[i], *g[i], *m1[i], opt_.learning_rate, opt_.momentum, nullptr);
  }
}

const RoutingLog* BackendSparseNet::routing_log() const {
  const SparseLayerSpec& s = spec_.sparse;
  for (std::size_t i = 0; i + 1 < pending_soft_.size(); i += 2)  // nothing dropped, no auxiliary losses
    log_.add(routing_stats(arma::vec(b_->to_host(pending_soft_[i])), arma::vec(b_->to_host(pending_soft_[i + 1])), 0.0,
                           0.0),
             AuxLosses{});
  pending_soft_.clear();
  for (std::size_t i = 0; i < pending_sums_.size(); ++i) {
    double a[4];
    for (int j = 0; j < 4; ++j) a[j] = b_->scalar(pending_aux_[i][std::size_t(j)]);
    AuxLosses aux;
    aux.importance = a[0], aux.load = a[1], aux.switch_aux = a[2], aux.z = a[3];
    aux.total = s.w_importance * a[0] + s.w_load * a[1] + s.switch_alpha * a[2] + s.z_loss * a[3];
    log_.add(stats_from_sums(pending_sums_[i]), aux);
  }
  pending_sums_.clear();
  pending_aux_.clear();
  return &log_;
}

double BackendSparseNet::take_loss_sum() {
  const double v = b_->scalar(loss_sum_);
  b_->fill(loss_sum_, 0.0);
  return v;
}

double BackendSparseNet::loss(const arma::mat& X, const arma::mat& Y, bool accumulate_grad) {
  from_host();
  upload_batch(X, &Y);
  const double before = b_->scalar(loss_sum_);
  forward(X.n_cols, true);
  backward(X.n_cols, accumulate_grad);  // a gradient call is a step of the log, as SparseNet's
  const double value = (b_->scalar(loss_sum_) - before) / double(X.n_cols);
  b_->fill(loss_sum_, before);
  if (!accumulate_grad) return value;
  require(!host_grads_.empty(), "backend sparse net: collect() the parameters before asking for gradients");
  std::size_t i = 0;
  host_grads_[i++] += download_matrix(*b_, g_.W_in);
  host_grads_[i++] += download_matrix(*b_, g_.b_in);
  if (scores_ != Scores::hash) host_grads_[i++] += download_matrix(*b_, g_.W_r);
  if (scores_ == Scores::noisy) host_grads_[i++] += download_matrix(*b_, g_.W_noise);
  const arma::mat W1 = download_matrix(*b_, g_.experts.W1), b1 = download_matrix(*b_, g_.experts.b1),
                  W2 = download_matrix(*b_, g_.experts.W2), b2 = download_matrix(*b_, g_.experts.b2);
  for (std::size_t e = 0; e < E_; ++e) {
    host_grads_[i++] += W1.cols(e * D_, (e + 1) * D_ - 1);
    host_grads_[i++] += b1.col(e);
    host_grads_[i++] += W2.cols(e * F_, (e + 1) * F_ - 1);
    host_grads_[i++] += b2.col(e);
  }
  for (const Tensor& t : g_.shared) host_grads_[i++] += download_matrix(*b_, t);
  if (has_bias_grad_) ++i;  // state, not trained: no gradient
  host_grads_[i++] += download_matrix(*b_, g_.W_out);
  host_grads_[i++] += download_matrix(*b_, g_.b_out);
  return value;
}

arma::rowvec BackendSparseNet::pointwise_loss(const arma::mat& X, const arma::mat& Y) const {
  upload_batch(X, &Y);
  forward(X.n_cols, false);
  task_loss(X.n_cols, nullptr);
  arma::rowvec out(X.n_cols);
  if (X.n_cols > 0) b_->download(loss_cols_, out.memptr());
  return out;
}

Prediction BackendSparseNet::predict(const arma::mat& X) const {
  upload_batch(X, nullptr);
  forward(X.n_cols, false);
  Prediction p;
  p.output = download_matrix(*b_, Z_);
  if (spec_.task == Task::classification)
    for (arma::uword n = 0; n < p.output.n_cols; ++n) {
      p.output.col(n) = arma::exp(p.output.col(n) - p.output.col(n).max());
      p.output.col(n) /= arma::accu(p.output.col(n));
    }
  if (scores_ == Scores::soft) {  // each expert's combine mass for each token
    Tensor gate = b_->tensor(E_, X.n_cols);
    b_->gemm(false, false, 1.0, group_, combine_, 0.0, gate);
    p.gate = download_matrix(*b_, gate);
    return p;
  }
  // E x N combine weights of the kept slots (evaluation is dropless: every routed slot).
  const std::size_t k = plan_.k;
  std::vector<std::int32_t> se(k * X.n_cols);
  if (!se.empty()) b_->download(plan_.slot_expert, se.data());
  const arma::mat w = download_matrix(*b_, plan_.slot_weight);
  p.gate.zeros(E_, X.n_cols);
  for (arma::uword n = 0; n < X.n_cols; ++n)
    for (std::size_t s = 0; s < k; ++s)
      if (se[n * k + s] >= 0) p.gate(arma::uword(se[n * k + s]), n) += w(s, n);
  return p;
}

}  // namespace moe
