#include "moe/lm/language_model.hpp"

#include <algorithm>
#include <optional>

#include "moe/core/error.hpp"
#include "moe/sparse/router_registry.hpp"
#include "moe/models/model_registry.hpp"

namespace moe {

namespace {
// f(c0, c1) over consecutive column blocks [c0, c1] (inclusive) of at most B of n columns.
template <class F>
void for_column_blocks(arma::uword n, arma::uword B, F f) {
  for (arma::uword c0 = 0; c0 < n; c0 += B) f(c0, std::min(n, c0 + B) - 1);
}
}  // namespace

LanguageModel::LanguageModel(const ModelSpec& spec)
    : spec_(spec),
      encoder_(spec.inputs, spec.context_vocabulary ? spec.context_vocabulary : spec.outputs, spec.embedding,
               spec.hidden, spec.activation),
      head_(spec.head, spec.hidden, spec.projection, spec.outputs, spec.experts) {
  spec_.validate();
  if (spec_.moe_layer) {
    backend_ = layer_backend(spec_.sparse);
    moe_params_ = std::make_unique<BackendParams>(*backend_);
    moe_ = std::make_unique<MoeLayer>(spec_.sparse, spec_.experts, *moe_params_, "moe/");
    aux_ = backend_->zeros(1, 1);
  }
}

void LanguageModel::init(Rng& rng) {
  encoder_.init(rng);
  head_.init(rng);
  if (moe_) {
    moe_->init(rng);
    moe_params_->from_host();
    moe_->from_host();
  }
}

void LanguageModel::collect(ParamList& params) {
  encoder_.collect(params);
  if (moe_) moe_params_->collect(params);
  head_.collect(params);
}

void LanguageModel::collect_state(ParamList& params) {
  encoder_.collect(params);
  if (moe_) {
    moe_params_->collect(params);
    moe_->collect_state(params);
  }
  head_.collect(params);
}

void LanguageModel::end_step() {
  if (!moe_) return;
  moe_->end_step();
  moe_->to_host();  // the bias update happened on the backend
}

std::vector<std::uint64_t> LanguageModel::last_tokens(const arma::mat& X) const {
  std::vector<std::uint64_t> ids;
  if (!moe_ || !moe_->needs_token_ids()) return ids;
  ids.resize(X.n_cols);
  for (arma::uword t = 0; t < X.n_cols; ++t) ids[t] = std::uint64_t(X(X.n_rows - 1, t));
  return ids;
}

arma::mat LanguageModel::moe_pass(const arma::mat& X, const arma::mat& C, bool training) const {
  Backend& b = *backend_;
  upload_matrix(b, C_, C);
  if (moe_->needs_token_ids()) moe_->set_token_ids(last_tokens(X));
  moe_->forward(C_, training, Y_);
  return download_matrix(b, Y_);
}

void LanguageModel::upload_layer() const {
  if (moe_) upload_if_changed(*moe_params_, *moe_);
}

arma::mat LanguageModel::context(const arma::mat& X) const {
  const arma::mat C = encoder_.forward(X).C;
  return moe_ ? moe_pass(X, C, false) : C;
}

std::vector<RoutingStats> LanguageModel::routing(const arma::mat& X) const {
  if (!moe_) return {};
  // In blocks (evaluation is dropless and routes token by token, so blocks do not change the routing).
  upload_layer();
  const arma::uword E = spec_.experts, B = 4096;
  arma::vec importance(E, arma::fill::zeros), load(E, arma::fill::zeros);
  double dropped = 0.0, dropped_tokens = 0.0;
  for_column_blocks(X.n_cols, B, [&](arma::uword c0, arma::uword c1) {
    const arma::mat Xb = X.cols(c0, c1);
    moe_pass(Xb, encoder_.forward(Xb).C, false);
    const RoutingStats s = moe_->stats();
    importance += s.importance;
    load += s.load;
    dropped += s.dropped_fraction * double(c1 - c0 + 1);
    dropped_tokens += s.dropped_token_fraction * double(c1 - c0 + 1);
  });
  const double n = std::max<double>(1.0, double(X.n_cols));
  return {routing_stats(importance, load, dropped / n, dropped_tokens / n)};
}

arma::uword LanguageModel::block_columns() const {
  const arma::uword per_column = spec_.outputs * (spec_.head == "mos" ? spec_.experts : 1);
  return std::max<arma::uword>(1, (arma::uword(1) << 22) / std::max<arma::uword>(1, per_column));
}

double LanguageModel::loss(const arma::mat& X, const arma::mat& Y, bool accumulate_grad) {
  const double n = double(X.n_cols);
  if (!accumulate_grad && !moe_) return arma::mean(pointwise_loss(X, Y));
  const ContextEncoder::Cache cache = encoder_.forward(X);
  arma::mat dC;
  if (!moe_) {
    const arma::rowvec l = head_.loss(cache.C, Y, 1.0 / n, &dC);
    encoder_.backward(X, cache, dC);
    return arma::accu(l) / n;
  }
  // Training-mode routing, with or without the gradient (the same value either way). The host optimiser
  // may have changed the layer's parameters since the last pass: upload them first.
  Backend& b = *backend_;
  upload_layer();
  const arma::mat C1 = moe_pass(X, cache.C, true);
  const arma::rowvec l = head_.loss(C1, Y, 1.0 / n, &dC);
  upload_matrix(b, dY_, dC);
  b.fill(aux_, 0.0);
  moe_->backward(C_, dY_, dC_, aux_, accumulate_grad);  // aux_: the weighted auxiliary losses x N
  const double aux = b.scalar(aux_) / n;
  if (!accumulate_grad) return arma::accu(l) / n + aux;
  moe_params_->add_grads_to_host();
  encoder_.backward(X, cache, download_matrix(b, dC_));
  return arma::accu(l) / n + aux;
}

arma::rowvec LanguageModel::pointwise_loss(const arma::mat& X, const arma::mat& Y) const {
  upload_layer();
  arma::rowvec out(X.n_cols);
  for_column_blocks(X.n_cols, block_columns(), [&](arma::uword c0, arma::uword c1) {
    out.cols(c0, c1) = head_.loss(context(X.cols(c0, c1)), Y.cols(c0, c1));
  });
  return out;
}

arma::mat LanguageModel::log_prob(const arma::mat& X) const {
  upload_layer();
  arma::mat out(spec_.outputs, X.n_cols);
  for_column_blocks(X.n_cols, block_columns(), [&](arma::uword c0, arma::uword c1) {
    out.cols(c0, c1) = head_.log_prob(context(X.cols(c0, c1)));
  });
  return out;
}

Prediction LanguageModel::predict(const arma::mat& X) const { return {arma::exp(log_prob(X)), gate(X)}; }

arma::mat LanguageModel::gate(const arma::mat& X) const {
  if (moe_) {  // E x N combine weights of the MoE layer
    upload_layer();
    arma::mat out(spec_.experts, X.n_cols);
    for_column_blocks(X.n_cols, 4096, [&](arma::uword c0, arma::uword c1) {
      const arma::mat Xb = X.cols(c0, c1);
      moe_pass(Xb, encoder_.forward(Xb).C, false);
      out.cols(c0, c1) = moe_->gate();
    });
    return out;
  }
  if (spec_.head == "softmax") return {};
  arma::mat out(spec_.experts, X.n_cols);
  for_column_blocks(X.n_cols, std::max<arma::uword>(block_columns(), 4096), [&](arma::uword c0, arma::uword c1) {
    out.cols(c0, c1) = head_.prior(context(X.cols(c0, c1)));
  });
  return out;
}

void LanguageModel::visit_state(StateVisitor& v, const std::string& prefix) {
  if (moe_) moe_->visit_state(v, prefix + "moe/");
}

namespace {
std::vector<std::string> language_model_flags() {
  std::vector<std::string> flags{"experts", "head", "embedding", "projection", "hidden", "activation", "moe-layer",
                                 "tokenizer", "context", "min-count", "max-vocabulary", "max-documents"};
  for (const std::string& f : sparse_layer_flags())
    if (f != "d-model") flags.push_back(f);  // the MoE layer's width is the encoder's, --hidden
  return flags;
}
const ModelRegistration registered{{
    .name = "lm",
    .help = "n-gram language model (--task lm): embeddings, a context encoder, and a softmax, mixture-of-softmaxes "
            "or mixture-of-contexts head, or a sparse MoE layer (--moe-layer)",
    .flags = language_model_flags(),
    .language_model = true,
    .validate = {},
    .expert_count = {},
    .state_values =
        [](const ModelSpec& s) {  // embedding, encoder, the head's projections and output embedding, MoE experts
          const double d = double(s.inputs), m = double(s.outputs), K = double(s.experts), h = double(s.hidden);
          const double e = double(s.embedding), p = double(s.projection), F = double(s.sparse.ff_dim);
          const double Vc = s.context_vocabulary ? double(s.context_vocabulary) : m;
          const double heads = s.head == "softmax" ? 1 : K;
          return e * Vc + h * d * e + heads * p * h + m * p + (s.moe_layer ? 2 * K * h * F : 0);
        },
    .make = [](const ModelSpec& s) -> std::unique_ptr<Model> { return std::make_unique<LanguageModel>(s); },
}};
}  // namespace

}  // namespace moe
