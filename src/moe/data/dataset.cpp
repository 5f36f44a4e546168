#include "moe/data/dataset.hpp"

namespace moe {

Dataset Dataset::subset(const arma::uvec& cols) const {
  Dataset out;
  out.task = task;
  out.X = X.cols(cols);
  out.Y = Y.cols(cols);
  if (!labels.empty()) out.labels = labels.cols(cols);
  if (!groups.empty()) {
    out.groups.reserve(cols.n_elem);
    for (arma::uword c : cols) out.groups.push_back(groups[c]);
  }
  if (!row_ids.empty()) out.row_ids = row_ids.elem(cols);
  out.group_name = group_name;
  out.feature_names = feature_names;
  out.target_names = target_names;
  out.feature_matrix = feature_matrix;
  out.dropped_missing = dropped_missing;
  return out;
}

}  // namespace moe
