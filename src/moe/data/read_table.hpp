#pragma once
// One entry point for tabular input files, chosen by extension.
#include <string>

#include "moe/data/csv.hpp"

namespace moe {

// ".h5" / ".hdf5" / ".he5": read_hdf5_table(path, group); anything else: read_csv(path) (group must
// then be empty).
Table read_table(const std::string& path, const std::string& group = "");

bool is_hdf5_path(const std::string& path);

}  // namespace moe
