#pragma once
// An HDF5 group of 1-D datasets read as a Table (one dataset = one column), so HDF5 data sets go
// through the same build_dataset path as CSV files.
#include <string>
#include <vector>

#include "moe/data/csv.hpp"

namespace moe {

// Every 1-D dataset directly under `group` ("/" or "" for the root) becomes a column, in the sorted
// order of moe::h5::File::children. Numeric cells are printed with %.17g (exact round trip through
// build_dataset); string datasets are copied. Sub-groups are skipped. Fails with moe::Error when the
// group has no datasets, a dataset has rank != 1, or columns differ in length (naming the column).
// Datasets named in `skip` are left out (a feature matrix read by itself).
Table read_hdf5_table(const std::string& path, const std::string& group, const std::vector<std::string>& skip = {});

}  // namespace moe
