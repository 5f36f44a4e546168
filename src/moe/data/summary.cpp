#include "moe/data/summary.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "moe/data/number.hpp"

namespace moe {

std::vector<ColumnSummary> summarize(const Table& table) {
  std::vector<ColumnSummary> out;
  for (std::size_t j = 0; j < table.columns.size(); ++j) {
    ColumnSummary s;
    s.name = table.columns[j];
    std::set<std::string> values;
    s.numeric = !table.rows.empty();
    bool first = true;
    for (const auto& row : table.rows) {
      values.insert(row[j]);
      if (!s.numeric) continue;
      auto v = parse_number(row[j]);
      if (!v || !std::isfinite(*v)) {
        s.numeric = false;
        continue;
      }
      s.min = first ? *v : std::min(s.min, *v);
      s.max = first ? *v : std::max(s.max, *v);
      first = false;
    }
    s.distinct = values.size();
    if (!s.numeric)
      for (auto it = values.begin(); it != values.end() && s.examples.size() < 5; ++it) s.examples.push_back(*it);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace moe
