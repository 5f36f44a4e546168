#pragma once
// Which columns of a Table make a Dataset: features, target(s), row filters, group column, classes.
#include <armadillo>
#include <string>
#include <vector>

#include "moe/data/csv.hpp"
#include "moe/data/dataset.hpp"

namespace moe {

struct DatasetSpec {
  std::vector<std::string> features;  // d numeric columns, in this order (rows of X)
  // Classification: one column whose strings are class names. Regression: one or more numeric
  // columns separated by commas ("F1,F2"), giving m rows of Y. Empty with `targets` false.
  std::string target;
  Task task = Task::classification;
  // Each "column=v1,v2,..." keeps rows whose cell equals one of the values (exact string match);
  // several filters are AND'ed.
  std::vector<std::string> filters;
  // Group column for split_by_group (e.g. "Speaker"); several columns "Type,Sex,Speaker" are joined
  // with ':' into one id (Hillenbrand numbers speakers within each Type and Sex). Empty: no groups.
  std::string group;
  // Class order (label k = classes[k]); a row whose class is not listed is an error. Empty: the
  // sorted unique target values (deterministic whatever the row order).
  std::vector<std::string> classes;
  // Optional feature matrix (d x table rows, not owned; the HDF5 --feature-matrix): when set, X is made
  // of its columns, one per table row kept by the filters, and `features` name its d rows instead of
  // table columns.
  const arma::mat* feature_matrix = nullptr;
  // (Last, so that brace-initialised specs keep their meaning.)
  bool targets = true;  // false: no target column is read (Y is 0 x N; predictions only)
  // A missing value is an empty cell (spaces aside), NA, or in a numeric column a number that is NaN (a
  // NaN of the feature matrix too). false: one in a column the dataset reads (features, targets, group) of
  // a row the filters keep is an error naming --missing; true: such rows are left out (their row ids with
  // them; Dataset::dropped_missing counts them). Filter columns need no check: a filter keeps only the
  // values it names, so a row with a missing cell there is kept only where the filter names NA or "".
  bool drop_missing = false;
};

// Splits "a,b,c" at commas, trimming spaces; empty items dropped.
std::vector<std::string> split_list(const std::string& text);

// Table -> Dataset with X d x N, Y m x N (one-hot for classification, labels 1 x N), groups N.
// row_ids are the 0-based table rows kept. Errors (one line, naming file, row and column; rows counted
// 1-based over data rows): unknown column, malformed filter, missing value (unless drop_missing),
// non-numeric or non-finite feature / regression target, class not in spec.classes, no rows left after
// filters and dropped rows.
Dataset build_dataset(const Table& table, const DatasetSpec& spec);

}  // namespace moe
