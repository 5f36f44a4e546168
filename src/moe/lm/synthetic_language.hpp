#pragma once
// The rank experiment's synthetic language (Yang et al. 2017, section 4's "softmax bottleneck"): C
// contexts, V words, true log-probabilities log P*(w | c) = Z_cw - log sum_v exp(Z_cv) with logits
// Z = s A B' (A: C x r, B: V x r standard normal, s scaling the logits to standard deviation `scale`), so
// the logit matrix has rank r exactly and the log-probability matrix rank r + 1 at most (the row
// normaliser adds one). A softmax head of dimension d < r cannot represent it.
// File: HDF5 /language/log_prob (C x V, contexts x words), attributes contexts, words, rank, scale, seed,
// entropy (mean over contexts of the true entropy in nats: the lowest cross-entropy any model can reach).
#include <armadillo>
#include <cstdint>
#include <string>

#include "moe/core/rng.hpp"

namespace moe {

struct SyntheticLanguage {
  arma::mat log_prob;  // C x V
  arma::uword rank = 0;
  double scale = 0.0;
  std::uint64_t seed = 0;
  double entropy() const;  // mean over contexts of -sum_w P log P
};

SyntheticLanguage make_synthetic_language(arma::uword contexts, arma::uword words, arma::uword rank,
                                          double scale, std::uint64_t seed);
void write_synthetic_language(const std::string& path, const SyntheticLanguage& language);
// One-line moe::Error when the file lacks /language/log_prob or its rows are not distributions.
SyntheticLanguage read_synthetic_language(const std::string& path);

}  // namespace moe
