#pragma once
// Per-column description of a Table, for `moe-data info`.
#include <string>
#include <vector>

#include "moe/data/csv.hpp"

namespace moe {

struct ColumnSummary {
  std::string name;
  bool numeric = false;     // every cell parses as a finite number
  double min = 0, max = 0;  // numeric columns only
  std::size_t distinct = 0; // number of distinct cell strings (any column)
  std::vector<std::string> examples;  // up to 5 distinct values in sorted order (non-numeric columns)
};

std::vector<ColumnSummary> summarize(const Table& table);

}  // namespace moe
