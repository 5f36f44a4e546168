#pragma once
// /eval/<split> of a language model (Task::lm), written by write_eval in place of the classification and
// regression datasets (no V x N predictions, no one-hot targets):
//   attributes n (tokens, or contexts of the synthetic language), loss (mean cross-entropy, nats),
//     perplexity (exp(loss)), mse and accuracy (-1), alive_experts (mos, moc), unk_rate (text: the
//     fraction of target tokens that are <unk>, the out-of-vocabulary rate); with target distributions
//     (the synthetic language) also target_entropy (the lowest reachable loss) and target_rank
//   row_ids (N, uint64): text, the 0-based index in the corpus file of the document each token (column)
//     belongs to, so the tokens of one document can be gathered; the synthetic language, the context id
//   usage (K): mean prior of each component (mos, moc)
//   rank/singular_values: singular values of the model's log-probability matrix over M distinct contexts
//     of the split (the first M in order, M <= 1000) and all V words; attributes rank (values above
//     tolerance), tolerance (numpy.linalg.matrix_rank's: sigma_max max(M, V) eps), contexts (M), words (V)
#include <string>

#include "moe/data/dataset.hpp"
#include "moe/h5/hdf5.hpp"
#include "moe/models/model.hpp"
#include "moe/train/metrics.hpp"

namespace moe {

inline constexpr arma::uword rank_max_contexts = 1000;

Metrics write_lm_eval(h5::File& file, const std::string& split, const Model& model, const Dataset& data);

// Column indices of up to `max` distinct columns of X, first occurrences in column order.
arma::uvec distinct_columns(const arma::mat& X, arma::uword max);

}  // namespace moe
