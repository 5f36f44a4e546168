#include "moe/models/sparse_net.hpp"

#include <cmath>

#include "moe/backend/backend_registry.hpp"
#include "moe/core/error.hpp"
#include "moe/models/model_registry.hpp"

namespace moe {

namespace {

// Columns [first, first + n) of M (n may be 0).
arma::mat column_block(const arma::mat& M, std::size_t first, std::size_t n) {
  return n == 0 ? arma::mat(M.n_rows, 0) : arma::mat(M.cols(first, first + n - 1));
}

}  // namespace

SparseNet::SparseNet(const ModelSpec& spec, std::unique_ptr<Backend> backend,
                                   Communicator* expert_parallel)
    : spec_(spec), b_(std::move(backend)), comm_(expert_parallel), params_(*b_) {
  spec_.validate();
  D_ = spec_.sparse.model_dim, d_ = spec_.inputs, m_ = spec_.outputs;
  auto trained = [&](Tensor& w, Tensor& g, std::size_t rows, std::size_t cols) {
    params_.allocate(w, g, rows, cols, comm_ != nullptr);  // a copy on every process under expert parallelism
  };
  // Registered in SparseNet's order: embedding, the layer, output.
  trained(W_in_, dW_in_, D_, d_);
  trained(b_in_, db_in_, D_, 1);
  params_.view("embed/W", ParamKind::weight, W_in_);
  params_.view("embed/b", ParamKind::other, b_in_);
  moe_ = std::make_unique<MoeLayer>(spec_.sparse, spec_.experts, params_, "moe/", comm_);
  trained(W_out_, dW_out_, m_, D_);
  trained(b_out_, db_out_, m_, 1);
  params_.view("output/W", ParamKind::weight, W_out_);
  params_.view("output/b", ParamKind::other, b_out_);
}

void SparseNet::init(Rng& rng) {
  params_.host("embed/W") = rng.normal_matrix(D_, d_, 1.0 / std::sqrt(double(d_)));
  params_.host("output/W") = rng.normal_matrix(m_, D_, 1.0 / std::sqrt(double(D_)));
  params_.host("embed/b").zeros();
  params_.host("output/b").zeros();
  moe_->init(rng);
  from_host();
}

void SparseNet::collect(ParamList& params) { params_.collect(params); }

void SparseNet::collect_state(ParamList& params) {
  params_.collect(params);
  moe_->collect_state(params);
}

void SparseNet::to_host() {
  params_.to_host();
  moe_->to_host();
}

void SparseNet::from_host() {
  params_.from_host();
  moe_->from_host();
}

void SparseNet::upcycle_from(Model& dense) {
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
  for (const char* name : {"embed/W", "embed/b", "output/W", "output/b"}) params_.host(name) = value(name);
  moe_->copy_into_every_expert(value("moe/expert0/W1"), value("moe/expert0/b1"), value("moe/expert0/W2"),
                               value("moe/expert0/b2"));
  from_host();
}

void SparseNet::start(const BackendOptimizer& optimizer) {
  params_.start(optimizer);
  from_host();  // the host copies may have been loaded or restored
}

std::pair<std::size_t, std::size_t> SparseNet::share(std::size_t N) const {
  if (!comm_) return {0, N};
  const auto P = std::size_t(comm_->size()), r = std::size_t(comm_->rank());
  return {r * (N / P) + std::min(r, N % P), N / P + (r < N % P ? 1 : 0)};
}

arma::mat SparseNet::gather(const arma::mat& part, std::size_t N) const {
  if (!comm_) return part;
  const auto [first, n] = share(N);
  arma::mat all(part.n_rows, N, arma::fill::zeros);
  if (n > 0) all.cols(first, first + n - 1) = part;
  comm_->allreduce_sum(all.memptr(), all.n_elem);  // every column is one process's: the sum places it exactly
  return all;
}

void SparseNet::refresh() const { upload_if_changed(params_, *moe_); }

void SparseNet::end_step() {
  moe_->end_step();
  moe_->to_host();  // the bias moved on the backend
}

void SparseNet::upload_batch(const arma::mat& X, const arma::mat* Y) const {
  require(X.n_rows == d_ && (!Y || (Y->n_rows == m_ && Y->n_cols == X.n_cols)),
          "backend sparse net: a batch of the wrong shape");
  batch_ = X.n_cols;
  const auto [first, n] = share(X.n_cols);
  const arma::mat Xs = comm_ ? column_block(X, first, n) : arma::mat();
  const arma::mat& Xp = comm_ ? Xs : X;
  upload_matrix(*b_, X_, Xp);
  if (Y) upload_matrix(*b_, Y_, comm_ ? column_block(*Y, first, n) : *Y);
  if (moe_->needs_token_ids()) moe_->set_token_ids(column_hash_ids(Xp));
}

void SparseNet::set_data(const arma::mat& X, const arma::mat& Y) {
  require(X.n_rows == d_ && Y.n_rows == m_ && X.n_cols == Y.n_cols, "backend sparse net: a data set of the wrong shape");
  upload_matrix(*b_, data_X_, X);
  upload_matrix(*b_, data_Y_, Y);
  if (moe_->needs_token_ids()) data_ids_ = column_hash_ids(X);
}

void SparseNet::step_on(const arma::uvec& all_columns) {
  require(!data_X_.empty() || all_columns.is_empty(), "backend sparse net: step_on before set_data");
  batch_ = all_columns.n_elem;
  const auto [first, N] = share(all_columns.n_elem);
  const arma::uvec columns = N == 0 ? arma::uvec() : arma::uvec(all_columns.subvec(first, first + N - 1));
  std::vector<std::int64_t> ids(columns.begin(), columns.end());
  b_->reshape(batch_idx_, N, 1, DType::i64);
  if (N > 0) b_->upload(batch_idx_, ids.data());
  b_->reshape(X_, d_, N);
  b_->reshape(Y_, m_, N);
  b_->gather_columns(data_X_, batch_idx_, X_);
  b_->gather_columns(data_Y_, batch_idx_, Y_);
  if (moe_->needs_token_ids()) {
    std::vector<std::uint64_t> batch_ids(N);
    for (std::size_t j = 0; j < N; ++j) batch_ids[j] = data_ids_[columns[j]];
    moe_->set_token_ids(batch_ids);
  }
  take_step();
}

void SparseNet::step(const arma::mat& X, const arma::mat& Y) {
  upload_batch(X, &Y);
  take_step();
}

void SparseNet::take_step() {
  const double comm0 = comm_ ? comm_->seconds() : 0.0;
  forward(true);
  backward(true);
  // --l2, in the step's loss as the host trainer adds it to each batch's (its gradient: params_.step()).
  params_.add_l2_penalty(step_loss_[step_losses_ - 1], double(X_.cols()));
  if (comm_) {
    params_.sum_replicated_gradients(CommunicatorSum(*comm_));
    moe_->log_comm_seconds(comm_->seconds() - comm0);
  }
  params_.step();
  moe_->end_step();
}

void SparseNet::forward(bool training) const {
  Backend& b = *b_;
  const std::size_t N = X_.cols();
  b.reshape(H0_, D_, N);
  b.gemm(false, false, 1.0, W_in_, X_, 0.0, H0_);  // H0 = W_in X + b_in
  b.add_columns(H0_, b_in_);
  moe_->forward(H0_, training, H1_);
  b.reshape(Z_, m_, N);
  b.gemm(false, false, 1.0, W_out_, H1_, 0.0, Z_);  // Z = W_out H1 + b_out
  b.add_columns(Z_, b_out_);
}

void SparseNet::task_loss(Tensor* dZ) const {
  const std::size_t N = Z_.cols();
  b_->reshape(loss_cols_, 1, N);
  if (dZ) b_->reshape(*dZ, m_, N);
  const double scale = 1.0 / double(std::max<std::size_t>(batch_, 1));  // the mean over the whole batch
  if (spec_.task == Task::classification) b_->softmax_cross_entropy(Z_, Y_, scale, loss_cols_, dZ);
  else b_->squared_error(Z_, Y_, scale, loss_cols_, dZ);
}

void SparseNet::backward(bool log) {
  Backend& b = *b_;
  const std::size_t N = X_.cols();
  task_loss(&dZ_);
  Tensor& loss_sum = next_step_loss();
  b.sum_into(loss_cols_, 1.0, loss_sum);  // the batch's summed loss (mean x columns)
  // Output layer: dW_out = dZ H1^T, db_out = sum dZ, dH1 = W_out^T dZ (gradients written, not added).
  b.gemm(false, true, 1.0, dZ_, H1_, 0.0, dW_out_);
  b.sum_columns(dZ_, 0.0, db_out_);
  b.reshape(dH1_, D_, N);
  b.gemm(true, false, 1.0, W_out_, dZ_, 0.0, dH1_);
  moe_->backward(H0_, dH1_, dH0_, loss_sum, log);  // its auxiliary losses x N join the sum
  b.gemm(false, true, 1.0, dH0_, X_, 0.0, dW_in_);  // dW_in = dH0 X^T
  b.sum_columns(dH0_, 0.0, db_in_);
}

std::vector<RoutingStats> SparseNet::routing(const arma::mat& X) const {
  refresh();
  upload_batch(X, nullptr);
  forward(false);
  return {moe_->stats()};  // the batch's under expert parallelism
}

Tensor& SparseNet::next_step_loss() {
  if (step_losses_ == step_loss_.size()) step_loss_.push_back(b_->tensor(1, 1));
  Tensor& t = step_loss_[step_losses_++];
  b_->fill(t, 0.0);
  return t;
}

void SparseNet::add_loss_sums(double& sum) {
  std::vector<double> steps(step_losses_);
  for (std::size_t i = 0; i < step_losses_; ++i) steps[i] = b_->scalar(step_loss_[i]);
  if (comm_) comm_->allreduce_sum(steps.data(), steps.size());  // each step's sum over the processes
  for (const double s : steps) sum += s;
  step_losses_ = 0;
}

double SparseNet::loss(const arma::mat& X, const arma::mat& Y, bool accumulate_grad) {
  refresh();  // host copies the caller changed (a host optimiser's step, a gradient check's perturbation)
  upload_batch(X, &Y);
  forward(true);
  backward(accumulate_grad);  // a gradient call is a step of the log, as SparseNet's
  double value = b_->scalar(step_loss_[--step_losses_]);  // not a training step's
  if (comm_) comm_->allreduce_sum(&value, 1);
  value /= double(X.n_cols);
  if (!accumulate_grad) return value;
  if (comm_) params_.sum_replicated_gradients(CommunicatorSum(*comm_));
  params_.add_grads_to_host();
  return value;
}

arma::rowvec SparseNet::pointwise_loss(const arma::mat& X, const arma::mat& Y) const {
  refresh();
  upload_batch(X, &Y);
  forward(false);
  task_loss(nullptr);
  arma::rowvec out(loss_cols_.cols());
  if (out.n_elem > 0) b_->download(loss_cols_, out.memptr());
  return gather(out, X.n_cols);
}

Prediction SparseNet::predict(const arma::mat& X) const {
  refresh();
  upload_batch(X, nullptr);
  forward(false);
  Prediction p;
  p.output = gather(download_matrix(*b_, Z_), X.n_cols);
  if (spec_.task == Task::classification)
    for (arma::uword n = 0; n < p.output.n_cols; ++n) {
      p.output.col(n) = arma::exp(p.output.col(n) - p.output.col(n).max());
      p.output.col(n) /= arma::accu(p.output.col(n));
    }
  p.gate = gather(moe_->gate(), X.n_cols);
  return p;
}

std::unique_ptr<SparseNet> SparseNet::whole() {
  if (!comm_) return nullptr;
  const bool root = comm_->rank() == 0;
  ParamList mine;
  collect_state(mine);
  // The whole model's entries in its order, on every process alike: the one-process network's.
  std::unique_ptr<SparseNet> out = std::make_unique<SparseNet>(spec_, make_backend("cpu", "double"));
  ParamList all;
  out->collect_state(all);
  for (const Param& entry : all) {
    // An expert comes from the process that holds it, a copy from process 0 alone: the sum over the
    // processes is then exactly the value.
    arma::mat v(arma::size(*entry.value), arma::fill::zeros);
    const Param* own = mine.find(entry.name);
    const bool expert = entry.name.rfind("moe/expert", 0) == 0;
    if (own && (root || expert)) v = *own->value;
    comm_->allreduce_sum(v.memptr(), v.n_elem);
    *entry.value = v;
  }
  if (!root) return nullptr;
  out->from_host();
  return out;
}

std::vector<std::uint64_t> column_hash_ids(const arma::mat& X) {
  std::vector<std::uint64_t> ids(X.n_cols);
  for (arma::uword t = 0; t < X.n_cols; ++t) {  // FNV-1a over the column's bytes, then the router's mix
    std::uint64_t h = 1469598103934665603ull;
    for (arma::uword i = 0; i < X.n_rows; ++i) {
      std::uint64_t bits;
      const double v = X(i, t) == 0.0 ? 0.0 : X(i, t);  // -0 and +0 alike
      std::memcpy(&bits, &v, sizeof bits);
      h = (h ^ bits) * 1099511628211ull;
    }
    ids[t] = h;
  }
  return ids;
}

namespace {
std::vector<std::string> sparse_net_flags() {
  std::vector<std::string> flags{"experts", "upcycle-from", "expert-parallel"};
  for (const std::string& f : sparse_layer_flags()) flags.push_back(f);
  return flags;
}
const ModelRegistration registered{{
    .name = "sparse",
    .help = "input embedding, one sparse MoE FFN layer with residual (any --router), output layer: the modern "
            "sparse family on tabular and image data",
    .flags = sparse_net_flags(),
    .language_model = false,
    .validate =
        [](const ModelSpec& s) {
          require(s.task == Task::classification || s.task == Task::regression,
                  "--model sparse needs --task classification or regression");
          require(!s.hard, "--hard is not supported by --model sparse (its router decides)");
          s.sparse.validate(s.experts);
        },
    .expert_count = [](const ModelSpec& s) { return s.experts; },
    .state_values =
        [](const ModelSpec& s) {  // Win, Wout, experts' W1 and W2
          const double D = double(s.sparse.model_dim), F = double(s.sparse.ff_dim);
          return D * double(s.inputs) + double(s.outputs) * D + 2 * double(s.experts) * D * F;
        },
    .make = [](const ModelSpec& s) -> std::unique_ptr<Model> {
      return std::make_unique<SparseNet>(s, layer_backend(s.sparse));
    },
}};
}  // namespace

}  // namespace moe
