#pragma once
// From a corpus file (or the synthetic language) to language-model data sets (DataOptions::task "lm").
// An lm Dataset (Task::lm): X is n x N context token ids (row i: token t-n+i; before a document's first
// token the context is padded with <eos>), Y is 1 x N next-token ids (never one-hot), target_names is the
// vocabulary (V = m()), feature_names t-n .. t-1. Every document ends with <eos> (added when its last
// token is not one), so the model also predicts the end. The synthetic language gives one column per
// context: X 1 x C (the context id), Y V x C its true next-word distribution.
// Documents, not tokens, are split into train/valid/test (split_random over documents), and the
// vocabulary is built from the training documents alone.
#include <string>
#include <vector>

#include "moe/run/data_options.hpp"

namespace moe {

// Dataset of the token-id sequences `documents` (each 1 x T) with n context tokens. row_ids: for every
// column, document_ids[k] of the document k it comes from (empty document_ids: k itself).
Dataset make_lm_dataset(const std::vector<arma::urowvec>& documents, arma::uword context,
                        const std::vector<std::string>& vocabulary, const arma::uvec& document_ids = {});

// options.path: a corpus file, a directory holding corpus.txt (moe-data fetch sotu|kjv), or an HDF5
// synthetic language (.h5). With `vocabulary` (a saved model's), it is used instead of building one.
PreparedData prepare_lm_data(const DataOptions& options, Rng& rng,
                             const std::vector<std::string>* vocabulary = nullptr);

}  // namespace moe
