#include "moe/models/sparse_net.hpp"

#include <cmath>
#include <cstring>

#include "moe/core/error.hpp"
#include "moe/core/math.hpp"
#include "moe/sparse/hash_router.hpp"

namespace moe {

SparseNet::SparseNet(const ModelSpec& spec) : spec_(spec), moe_(spec.sparse, spec.experts) {
  spec_.validate();
  const arma::uword d = spec_.inputs, D = spec_.sparse.model_dim, m = spec_.outputs;
  Win_.zeros(D, d);
  bin_.zeros(D, 1);
  Wout_.zeros(m, D);
  bout_.zeros(m, 1);
  dWin_ = Win_, dbin_ = bin_, dWout_ = Wout_, dbout_ = bout_;
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
  params.add("embed/W", Win_, dWin_);
  params.add("embed/b", bin_, dbin_);
  if (state) moe_.collect_state(params, "moe/");
  else moe_.collect(params, "moe/");
  params.add("output/W", Wout_, dWout_);
  params.add("output/b", bout_, dbout_);
}

std::vector<std::uint64_t> SparseNet::token_ids(const arma::mat& X) const {
  std::vector<std::uint64_t> ids;
  if (spec_.sparse.router != "hash") return ids;
  ids.resize(X.n_cols);
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

SparseNet::Pass SparseNet::forward(const arma::mat& X, bool training) const {
  require(X.n_rows == spec_.inputs, "sparse net: inputs have " + std::to_string(X.n_rows) + " features, expected " +
                                        std::to_string(spec_.inputs));
  Pass p;
  p.H0 = Win_ * X;
  p.H0.each_col() += bin_;
  p.moe = moe_.forward(p.H0, training, token_ids(X));
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
  Pass p = forward(X, true);
  const double n = double(X.n_cols);
  arma::mat dZ;
  const double task = arma::accu(task_loss(p.Z, Y, accumulate_grad ? &dZ : nullptr)) / n;
  if (accumulate_grad) {
    dZ /= n;
    dWout_ += dZ * p.moe.Y.t();
    dbout_ += arma::sum(dZ, 1);
    const arma::mat dH1 = Wout_.t() * dZ;
    const double aux = p.moe.aux.total;
    const arma::mat dH0 = moe_.backward(p.H0, std::move(p.moe), dH1);
    dWin_ += dH0 * X.t();
    dbin_ += arma::sum(dH0, 1);
    return task + aux;
  }
  return task + p.moe.aux.total;
}

void SparseNet::end_step() { moe_.end_step(); }

arma::rowvec SparseNet::pointwise_loss(const arma::mat& X, const arma::mat& Y) const {
  return task_loss(forward(X, false).Z, Y, nullptr);
}

Prediction SparseNet::predict(const arma::mat& X) const {
  const Pass p = forward(X, false);
  Prediction out;
  out.output = spec_.task == Task::classification ? arma::exp(log_softmax_cols(p.Z)) : p.Z;
  out.gate = moe_.layer().combine_weights(p.moe);
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

}  // namespace moe
