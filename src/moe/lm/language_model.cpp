#include "moe/lm/language_model.hpp"

#include <algorithm>

#include "moe/core/error.hpp"

namespace moe {

LanguageModel::LanguageModel(const ModelSpec& spec)
    : spec_(spec),
      encoder_(spec.inputs, spec.context_vocabulary ? spec.context_vocabulary : spec.outputs, spec.embedding,
               spec.hidden, spec.activation),
      head_(spec.head, spec.hidden, spec.projection, spec.outputs, spec.experts) {
  spec_.validate();
}

void LanguageModel::init(Rng& rng) {
  encoder_.init(rng);
  head_.init(rng);
}

void LanguageModel::collect(ParamList& params) {
  encoder_.collect(params);
  head_.collect(params);
}

arma::uword LanguageModel::block_columns() const {
  const arma::uword per_column = spec_.outputs * (spec_.head == "mos" ? spec_.experts : 1);
  return std::max<arma::uword>(1, (arma::uword(1) << 22) / std::max<arma::uword>(1, per_column));
}

double LanguageModel::loss(const arma::mat& X, const arma::mat& Y, bool accumulate_grad) {
  const double n = double(X.n_cols);
  if (!accumulate_grad) return arma::mean(pointwise_loss(X, Y));
  const ContextEncoder::Cache cache = encoder_.forward(X);
  arma::mat dC;
  const arma::rowvec l = head_.loss(cache.C, Y, 1.0 / n, &dC);
  encoder_.backward(X, cache, dC);
  return arma::accu(l) / n;
}

arma::rowvec LanguageModel::pointwise_loss(const arma::mat& X, const arma::mat& Y) const {
  arma::rowvec out(X.n_cols);
  const arma::uword B = block_columns();
  for (arma::uword c0 = 0; c0 < X.n_cols; c0 += B) {
    const arma::uword c1 = std::min(X.n_cols, c0 + B) - 1;
    out.cols(c0, c1) = head_.loss(encoder_.forward(X.cols(c0, c1)).C, Y.cols(c0, c1));
  }
  return out;
}

arma::mat LanguageModel::log_prob(const arma::mat& X) const {
  arma::mat out(spec_.outputs, X.n_cols);
  const arma::uword B = block_columns();
  for (arma::uword c0 = 0; c0 < X.n_cols; c0 += B) {
    const arma::uword c1 = std::min(X.n_cols, c0 + B) - 1;
    out.cols(c0, c1) = head_.log_prob(encoder_.forward(X.cols(c0, c1)).C);
  }
  return out;
}

Prediction LanguageModel::predict(const arma::mat& X) const { return {arma::exp(log_prob(X)), gate(X)}; }

arma::mat LanguageModel::gate(const arma::mat& X) const {
  if (spec_.head == "softmax") return {};
  arma::mat out(spec_.experts, X.n_cols);
  const arma::uword B = std::max<arma::uword>(block_columns(), 4096);
  for (arma::uword c0 = 0; c0 < X.n_cols; c0 += B) {
    const arma::uword c1 = std::min(X.n_cols, c0 + B) - 1;
    out.cols(c0, c1) = head_.prior(encoder_.forward(X.cols(c0, c1)).C);
  }
  return out;
}

}  // namespace moe
