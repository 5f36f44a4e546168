#pragma once
// From command-line data options to standardised train / validation / test sets.
#include <string>
#include <vector>

#include "moe/core/rng.hpp"
#include "moe/data/dataset.hpp"
#include "moe/data/split.hpp"
#include "moe/data/standardizer.hpp"

namespace moe {

struct DataOptions {
  std::string path;                    // .csv, or .h5/.hdf5 (columns are 1-D datasets of hdf5_group)
  std::string hdf5_group = "/";
  std::vector<std::string> features;   // column names
  std::string target;                  // column name (comma-separated list for multi-output regression)
  std::string task = "classification";
  std::vector<std::string> filters;    // "column=v1,v2"
  std::string group;                   // group column (speaker), for speaker-disjoint splits
  std::vector<std::string> classes;    // class order; empty = sorted unique
  std::size_t train_groups = 0, valid_groups = 0, test_groups = 0;  // by group when train_groups > 0
  double valid_fraction = 0.0, test_fraction = 0.0;                 // otherwise random by row
  bool standardize = true;
  std::uint64_t split_seed = 0;        // 0: the split follows the run's seed; else a fixed split
  void validate() const;
};

// Reads the file named by options.path with the columns and filters of options.
Dataset load_dataset(const DataOptions& options);

struct PreparedData {
  Dataset train, valid, test;  // standardised with the training statistics
  Standardizer standardizer;
  Split split;
};

// Loads, splits (with rng) and standardises; the standardiser is fitted on the training part only.
PreparedData prepare_data(const DataOptions& options, Rng& rng);

}  // namespace moe
