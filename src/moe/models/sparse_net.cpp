#include "moe/models/sparse_net.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "moe/backend/backend_registry.hpp"
#include "moe/core/error.hpp"
#include "moe/models/backend_sparse_net.hpp"
#include "moe/core/math.hpp"
#include "moe/sparse/router_registry.hpp"
#include "moe/models/model_registry.hpp"

namespace moe {

namespace {

// Columns [first, first + n) of M (rows x 0 for n = 0).
arma::mat columns(const arma::mat& M, arma::uword first, arma::uword n) {
  return n == 0 ? arma::mat(M.n_rows, 0) : arma::mat(M.cols(first, first + n - 1));
}

}  // namespace

SparseNet::SparseNet(const ModelSpec& spec, Communicator* expert_parallel, DeviceCommunicator* gpu_exchange)
    : spec_(spec), comm_(expert_parallel), gpu_exchange_(gpu_exchange), moe_(spec.sparse, spec.experts, expert_parallel) {
  spec_.validate();
  const arma::uword d = spec_.inputs, D = spec_.sparse.model_dim, m = spec_.outputs;
  Win_.zeros(D, d);
  bin_.zeros(D, 1);
  Wout_.zeros(m, D);
  bout_.zeros(m, 1);
  dWin_ = Win_, dbin_ = bin_, dWout_ = Wout_, dbout_ = bout_;
  if (comm_) collect_replicated(replicated_);  // once: ParamList::add zeroes the gradients it registers
  if (gpu_exchange) moe_.layer().use_device_exchange(gpu_exchange);
}

void SparseNet::init(Rng& rng) {
  Win_ = rng.normal_matrix(Win_.n_rows, Win_.n_cols, 1.0 / std::sqrt(double(Win_.n_cols)));
  Wout_ = rng.normal_matrix(Wout_.n_rows, Wout_.n_cols, 1.0 / std::sqrt(double(Wout_.n_cols)));
  bin_.zeros();
  bout_.zeros();
  moe_.init(rng);
}

void SparseNet::collect(ParamList& params) { collect_into(params, false); }
void SparseNet::collect_state(ParamList& params) { collect_into(params, true); }

void SparseNet::collect_into(ParamList& params, bool state) {
  params.add("embed/W", Win_, dWin_, ParamKind::weight);
  params.add("embed/b", bin_, dbin_);
  if (state) moe_.collect_state(params, "moe/");
  else moe_.collect(params, "moe/");
  params.add("output/W", Wout_, dWout_, ParamKind::weight);
  params.add("output/b", bout_, dbout_);
}

void SparseNet::collect_replicated(ParamList& params) {
  params.add("embed/W", Win_, dWin_, ParamKind::weight);
  params.add("embed/b", bin_, dbin_);
  moe_.layer().collect_replicated(params, "moe/");
  params.add("output/W", Wout_, dWout_, ParamKind::weight);
  params.add("output/b", bout_, dbout_);
}

arma::mat SparseNet::gather(const arma::mat& part, const Pass& p, arma::uword N) const {
  if (!comm_) return part;
  arma::mat all(part.n_rows, N, arma::fill::zeros);
  if (p.n > 0) all.cols(p.first, p.first + p.n - 1) = part;
  comm_->allreduce_sum(all.memptr(), all.n_elem);  // every column is one rank's: the sum places it exactly
  return all;
}

std::unique_ptr<SparseNet> SparseNet::whole() {
  const bool root = !comm_ || comm_->rank() == 0;
  ParamList mine, local_experts;
  collect_state(mine);
  moe_.layer().expert_bank().collect(local_experts, "moe/");
  // The whole model's parameters in its order, the same list on every rank: this model's, with the block
  // of its own experts replaced by every expert's (FfnExperts::collect's names, order and shapes).
  struct Entry {
    std::string name;
    arma::uword rows, cols;
  };
  std::vector<Entry> list;
  const arma::uword d = spec_.sparse.model_dim, f = spec_.sparse.ff_dim;
  bool experts_listed = false;
  for (const Param& p : mine) {
    if (!local_experts.find(p.name)) {
      list.push_back({p.name, p.value->n_rows, p.value->n_cols});
    } else if (!experts_listed) {
      experts_listed = true;
      for (arma::uword e = 0; e < spec_.experts; ++e) {
        const std::string prefix = "moe/expert" + std::to_string(e) + "/";
        list.push_back({prefix + "W1", f, d});
        list.push_back({prefix + "b1", f, 1});
        list.push_back({prefix + "W2", d, f});
        list.push_back({prefix + "b2", d, 1});
      }
    }
  }
  std::unique_ptr<SparseNet> out = root ? std::make_unique<SparseNet>(spec_) : nullptr;
  ParamList all;
  if (out) out->collect_state(all);
  for (const Entry& entry : list) {
    // An expert's parameters come from the rank that holds it, the copies from rank 0 alone: the sum over
    // the ranks (one matrix at a time) is then exactly the value.
    arma::mat v(entry.rows, entry.cols, arma::fill::zeros);
    const Param* own = mine.find(entry.name);
    if (own && (root || local_experts.find(entry.name))) v = *own->value;
    if (comm_) comm_->allreduce_sum(v.memptr(), v.n_elem);
    if (!out) continue;
    const Param* target = all.find(entry.name);
    require(target != nullptr && arma::size(*target->value) == arma::size(v),
            "expert parallelism: the gathered parameter '" + entry.name + "' does not fit the whole model");
    *target->value = v;
  }
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

std::vector<std::uint64_t> SparseNet::token_ids(const arma::mat& X) const {
  if (!router_entry(spec_.sparse.router).traits.needs_token_ids) return {};
  return column_hash_ids(X);
}

SparseNet::Pass SparseNet::forward(const arma::mat& X, bool training) const {
  require(X.n_rows == spec_.inputs, "sparse net: inputs have " + std::to_string(X.n_rows) + " features, expected " +
                                        std::to_string(spec_.inputs));
  Pass p;
  p.n = X.n_cols;
  if (comm_) {  // this rank's share: N / P columns, the first N mod P ranks one more
    const auto P = arma::uword(comm_->size()), r = arma::uword(comm_->rank()), N = X.n_cols;
    p.n = N / P + (r < N % P ? 1 : 0);
    p.first = r * (N / P) + std::min(r, N % P);
  }
  if (comm_) p.X = columns(X, p.first, p.n);
  const arma::mat& Xp = comm_ ? p.X : X;
  p.H0 = Win_ * Xp;
  p.H0.each_col() += bin_;
  p.moe = moe_.forward(p.H0, training, token_ids(Xp));
  p.Z = Wout_ * p.moe.Y;
  p.Z.each_col() += bout_;
  return p;
}

// Per-column task loss of the outputs Z (m x N); with dZ, writes d(sum loss)/dZ.
arma::rowvec SparseNet::task_loss(const arma::mat& Z, const arma::mat& Y, arma::mat* dZ) const {
  require(Y.n_rows == Z.n_rows && Y.n_cols == Z.n_cols, "sparse net: targets have the wrong shape");
  if (spec_.task == Task::classification) {
    const arma::mat logP = log_softmax_cols(Z);
    if (dZ) *dZ = arma::exp(logP) % arma::repmat(arma::sum(Y, 0), Z.n_rows, 1) - Y;
    return -arma::sum(Y % logP, 0);
  }
  const arma::mat R = Z - Y;
  if (dZ) *dZ = R;
  return 0.5 * arma::sum(R % R, 0);
}

double SparseNet::loss(const arma::mat& X, const arma::mat& Y, bool accumulate_grad) {
  const double comm0 = comm_ ? comm_->seconds() + device_seconds() : 0.0;
  Pass p = forward(X, true);
  const double n = double(X.n_cols);  // the whole batch: every rank's share
  const arma::mat Ys = comm_ ? columns(Y, p.first, p.n) : arma::mat();
  const arma::mat& Yp = comm_ ? Ys : Y;
  arma::mat dZ;
  double task = arma::accu(task_loss(p.Z, Yp, accumulate_grad ? &dZ : nullptr));
  if (comm_) comm_->allreduce_sum(&task, 1);
  task /= n;
  const double aux = p.moe.aux.total;  // of the whole batch already
  if (!accumulate_grad) return task + aux;
  // Expert parallelism: this call's part of the copies' gradients is summed over the ranks; what they
  // held before (a caller accumulating over calls) is not.
  std::vector<arma::mat> before;
  if (comm_)
    for (const Param& q : replicated_) before.push_back(*q.grad);
  dZ /= n;
  dWout_ += dZ * p.moe.Y.t();
  dbout_ += arma::sum(dZ, 1);
  const arma::mat dH1 = Wout_.t() * dZ;
  const arma::mat dH0 = moe_.backward(p.H0, std::move(p.moe), dH1);
  dWin_ += dH0 * (comm_ ? p.X : X).t();
  dbin_ += arma::sum(dH0, 1);
  if (comm_) {
    std::size_t i = 0;
    for (const Param& q : replicated_) {
      arma::mat delta = *q.grad - before[i];
      comm_->allreduce_sum(delta.memptr(), delta.n_elem);
      *q.grad = before[i++] + delta;
    }
    moe_.log_comm_seconds(comm_->seconds() + device_seconds() - comm0);
  }
  return task + aux;
}

void SparseNet::end_step() { moe_.end_step(); }

arma::rowvec SparseNet::pointwise_loss(const arma::mat& X, const arma::mat& Y) const {
  const Pass p = forward(X, false);
  if (!comm_) return task_loss(p.Z, Y, nullptr);
  return gather(task_loss(p.Z, columns(Y, p.first, p.n), nullptr), p, X.n_cols);
}

Prediction SparseNet::predict(const arma::mat& X) const {
  const Pass p = forward(X, false);
  Prediction out;
  out.output = gather(spec_.task == Task::classification ? arma::mat(arma::exp(log_softmax_cols(p.Z))) : p.Z, p,
                      X.n_cols);
  out.gate = gather(moe_.layer().combine_weights(p.moe), p, X.n_cols);
  return out;
}

std::vector<RoutingStats> SparseNet::routing(const arma::mat& X) const {
  return {moe_.layer().stats(forward(X, false).moe)};
}

void SparseNet::upcycle_from(const SparseNet& dense) {
  const ModelSpec& d = dense.spec_;
  require(d.experts == 1 && d.sparse.shared_experts == 0,
          "upcycling: the dense model must have exactly 1 expert and no shared experts (got " +
              std::to_string(d.experts) + " and " + std::to_string(d.sparse.shared_experts) + ")");
  require(d.inputs == spec_.inputs && d.outputs == spec_.outputs && d.sparse.model_dim == spec_.sparse.model_dim &&
              d.sparse.ff_dim == spec_.sparse.ff_dim && d.sparse.ffn_activation == spec_.sparse.ffn_activation,
          "upcycling: the dense model's inputs, outputs, --d-model, --d-ff or --ffn-activation differ from this run's");
  Win_ = dense.Win_;
  bin_ = dense.bin_;
  Wout_ = dense.Wout_;
  bout_ = dense.bout_;
  const FfnExperts& ffn = dense.moe_.layer().expert_bank();
  moe_.layer().expert_bank().copy_into_all(ffn.W1(0), ffn.b1(0), ffn.W2(0), ffn.b2(0));
}

void SparseNet::visit_state(StateVisitor& v, const std::string& prefix) { moe_.visit_state(v, prefix + "moe/"); }

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
    // WORK IN PROGRESS: MOE_BACKEND=cpu-float|cpu-double trains topk/switch networks on the compute backend.
    .make = [](const ModelSpec& s) -> std::unique_ptr<Model> {
      const char* backend = std::getenv("MOE_BACKEND");
      if (backend && *backend) {
        const std::string b = backend;
        return std::make_unique<BackendSparseNet>(s, make_backend(b.substr(0, b.find('-')), b.substr(b.find('-') + 1)));
      }
      return std::make_unique<SparseNet>(s);
    },
}};
}  // namespace

}  // namespace moe
