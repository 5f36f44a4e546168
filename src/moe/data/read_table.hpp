#pragma once
// One entry point for tabular input files, chosen by extension.
#include <string>
#include <vector>

#include "moe/data/csv.hpp"

namespace moe {

// ".h5" / ".hdf5" / ".he5": read_hdf5_table(path, group); anything else: read_csv(path) (group must
// then be empty).
Table read_table(const std::string& path, const std::string& group = "");

bool is_hdf5_path(const std::string& path);

// The column names read_table(path, group) would give, without reading the rows: a CSV file's header, or
// the 1-D datasets of an HDF5 group (sorted).
std::vector<std::string> table_columns(const std::string& path, const std::string& group = "");

}  // namespace moe
