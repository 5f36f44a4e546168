#include "moe/lm/context_encoder.hpp"

#include <cmath>

#include "moe/core/error.hpp"

namespace moe {

ContextEncoder::ContextEncoder(arma::uword context, arma::uword vocabulary, arma::uword embedding,
                               arma::uword hidden, const std::string& activation)
    : n_(context),
      e_(embedding),
      relu_(activation == "relu"),
      E_(embedding, vocabulary, arma::fill::zeros),
      A_(hidden, context * embedding, arma::fill::zeros),
      a_(hidden, 1, arma::fill::zeros) {}

void ContextEncoder::init(Rng& rng) {
  E_ = rng.normal_matrix(E_.n_rows, E_.n_cols, 1.0 / std::sqrt(double(e_)));
  A_ = rng.normal_matrix(A_.n_rows, A_.n_cols, 1.0 / std::sqrt(double(A_.n_cols)));
  a_.zeros();
}

void ContextEncoder::collect(ParamList& params) {
  params.add("embedding", E_, dE_);
  params.add("hidden/W", A_, dA_, ParamKind::weight);
  params.add("hidden/b", a_, da_);
}

ContextEncoder::Cache ContextEncoder::forward(const arma::mat& X) const {
  require(X.n_rows == n_, "the language model reads " + std::to_string(n_) + " context tokens, the data has " +
                              std::to_string(X.n_rows));
  const arma::uword N = X.n_cols, V = E_.n_cols;
  Cache c;
  c.G.set_size(n_ * e_, N);
  for (arma::uword j = 0; j < N; ++j)
    for (arma::uword i = 0; i < n_; ++i) {
      const double id = X(i, j);
      require(id >= 0.0 && id < double(V) && id == std::floor(id),
              "context token id " + std::to_string(id) + " is not an integer in [0, " + std::to_string(V) + ")");
      std::copy_n(E_.colptr(arma::uword(id)), e_, c.G.colptr(j) + i * e_);
    }
  c.C = A_ * c.G;
  c.C.each_col() += a_.col(0);
  if (relu_) c.C = arma::clamp(c.C, 0.0, arma::datum::inf);
  else c.C = arma::tanh(c.C);
  return c;
}

void ContextEncoder::backward(const arma::mat& X, const Cache& cache, const arma::mat& dC) {
  arma::mat dPre = dC;
  if (relu_) dPre %= arma::conv_to<arma::mat>::from(cache.C > 0.0);
  else dPre %= 1.0 - arma::square(cache.C);
  dA_ += dPre * cache.G.t();
  da_ += arma::sum(dPre, 1);
  const arma::mat dG = A_.t() * dPre;  // (n e) x N
  // Scatter-add into the embedding columns, in column order (deterministic).
  for (arma::uword j = 0; j < X.n_cols; ++j)
    for (arma::uword i = 0; i < n_; ++i) {
      double* dst = dE_.colptr(arma::uword(X(i, j)));
      const double* src = dG.colptr(j) + i * e_;
      for (arma::uword k = 0; k < e_; ++k) dst[k] += src[k];
    }
}

}  // namespace moe
