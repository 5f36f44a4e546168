#pragma once
// From command-line data options to standardised train / validation / test sets.
#include <string>
#include <utility>
#include <vector>

#include "moe/core/rng.hpp"
#include "moe/data/dataset.hpp"
#include "moe/data/split.hpp"
#include "moe/data/standardizer.hpp"
#include "moe/lm/lm_data_options.hpp"

namespace moe {

struct DataOptions {
  std::string path;                    // .csv, or .h5/.hdf5 (columns are 1-D datasets of hdf5_group)
  std::string hdf5_group = "/";
  std::vector<std::string> features;   // column names
  // HDF5 only: a 2-D dataset of hdf5_group holding d features of N observations, named NAME[0] ..
  // NAME[d-1]; it replaces `features` (which may then be empty or list exactly those names). Targets,
  // filters and groups still come from the group's 1-D columns.
  std::string feature_matrix;
  // How feature_matrix is laid out: "columns", d x N (one observation per column, as images from
  // `moe-data jitter`), or "rows", N x d (one observation per row, as numpy, h5py and pandas write it).
  std::string matrix_layout = "columns";
  std::string target;                  // column name (comma-separated list for multi-output regression)
  LmDataOptions lm;                    // task "lm": tokenizer, context, vocabulary (path: a corpus or .h5 language)
  std::string task = "classification";
  std::vector<std::string> filters;    // "column=v1,v2"
  std::string group;                   // group column (speaker), for speaker-disjoint splits
  std::vector<std::string> classes;    // class order; empty = sorted unique
  std::size_t train_groups = 0, valid_groups = 0, test_groups = 0;  // by group when train_groups > 0
  double valid_fraction = 0.0, test_fraction = 0.0;                 // otherwise random by row
  bool standardize = true;
  std::uint64_t split_seed = 0;        // 0: the split follows the run's seed; else a fixed split
  std::string missing = "error";       // error | drop: rows with an empty, NA or NaN cell (DatasetSpec::drop_missing)
  bool targets = true;                 // false: read no target column (moe-eval --predict-only)
  void validate() const;
};

// Reads the file named by options.path with the columns and filters of options.
Dataset load_dataset(const DataOptions& options);

// Feature names of a --feature-matrix NAME with `rows` rows: NAME[0] .. NAME[rows-1].
std::vector<std::string> feature_matrix_names(const std::string& name, arma::uword rows);

struct PreparedData {
  Dataset train, valid, test;  // standardised with the training statistics
  Standardizer standardizer;
  arma::uword context_vocabulary = 0;  // lm: ids the context tokens take
  std::string tokenizer;               // lm: word | char | none
  Split split;
  // Degenerate training data (key, message): constant features, a single class. run_train_job reports
  // them (report_data_warnings) once training has run, so that a run refused for its settings, which
  // the trainer too checks, prints its one error line alone.
  std::vector<std::pair<std::string, std::string>> warnings;
};

// Loads, splits (with rng) and standardises; the standardiser is fitted on the training part only.
PreparedData prepare_data(const DataOptions& options, Rng& rng);

// The warning of --missing drop: "left out N rows with a missing value (--missing drop)".
std::string missing_rows_note(std::size_t rows);

// Reports data.warnings through moe/core/warning.hpp (one line each, once per process).
void report_data_warnings(const PreparedData& data);

}  // namespace moe
