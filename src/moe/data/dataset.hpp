#pragma once
// A data set with observations as columns (docs/architecture.md#principles).
#include <armadillo>
#include <string>
#include <vector>

namespace moe {

// lm: language modelling (src/moe/run/lm_data.hpp): X holds context token ids, Y next-token ids (1 x N) or
// target distributions (V x N), never one-hot rows for a big vocabulary; target_names is the vocabulary.
enum class Task { classification, regression, lm };

struct Dataset {
  Task task = Task::regression;
  arma::mat X;                    // d x N features
  arma::mat Y;                    // m x N targets: regression values, or one-hot (m = classes)
  arma::urowvec labels;           // 1 x N class index in [0, m); classification only
  std::vector<std::string> groups;  // N group ids (e.g. speaker); empty when no group column
  std::string group_name;           // the column(s) the group ids came from, for messages
  std::vector<std::string> feature_names;  // d
  std::vector<std::string> target_names;   // m: class names or target column names
  std::string feature_matrix;  // the 2-D HDF5 dataset X was read from (--feature-matrix); empty for columns
  // N: where each observation came from, so results can be joined back to the input. Tables: the 0-based
  // row of the data file as read (before filters and dropped rows). lm text: the 0-based index of the
  // document (in the corpus file) of each token; the synthetic language: the context id. Empty when unknown.
  arma::uvec row_ids;
  std::size_t dropped_missing = 0;  // rows left out for a missing value (--missing drop)

  arma::uword n() const { return X.n_cols; }
  arma::uword d() const { return X.n_rows; }
  arma::uword m() const { return task == Task::lm ? target_names.size() : Y.n_rows; }  // lm: V
  bool is_classification() const { return task == Task::classification; }
  bool has_targets() const { return task == Task::lm || Y.n_rows > 0; }  // false: read for predictions only
  // Columns `cols` of every per-observation field (X, Y, labels, groups, row_ids), in that order.
  Dataset subset(const arma::uvec& cols) const;
};

}  // namespace moe
