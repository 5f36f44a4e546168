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
  out.group_name = group_name;
  out.feature_names = feature_names;
  out.target_names = target_names;
  out.feature_matrix = feature_matrix;
  return out;
}

}  // namespace moe
