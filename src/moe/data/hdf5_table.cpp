#include "moe/data/hdf5_table.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "moe/core/error.hpp"
#include "moe/h5/hdf5.hpp"

namespace moe {

namespace {

std::string format_number(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

Table read_hdf5_table(const std::string& path, const std::string& group_in, const std::vector<std::string>& skip) {
  const std::string group = group_in.empty() ? "/" : group_in;
  const std::string where = std::filesystem::path(path).filename().string() + ":" + group;
  h5::File file = h5::File::open(path);
  require(file.is_group(group), "no group '" + group + "' in " + path);

  Table t;
  t.source = where;
  std::vector<std::vector<std::string>> cols;  // column-major while reading
  const std::string prefix = (group.back() == '/') ? group : group + "/";
  for (const std::string& name : file.children(group)) {
    const std::string obj = prefix + name;
    if (!file.is_dataset(obj)) continue;  // sub-groups are not columns
    if (std::find(skip.begin(), skip.end(), name) != skip.end()) continue;
    const std::vector<std::uint64_t> shape = file.shape(obj);
    require(shape.size() == 1, where + ": dataset '" + name + "' has rank " + std::to_string(shape.size()) +
                                   ", a table column must be 1-D");
    std::vector<std::string> cells;
    if (file.is_string_dataset(obj)) {
      cells = file.read_strings(obj);
    } else {
      arma::vec v = file.read_vector(obj);
      cells.reserve(v.n_elem);
      for (double x : v) cells.push_back(format_number(x));
    }
    if (!cols.empty() && cells.size() != cols.front().size())
      fail(where + ": column '" + name + "' has " + std::to_string(cells.size()) + " values, column '" +
           t.columns.front() + "' has " + std::to_string(cols.front().size()));
    t.columns.push_back(name);
    cols.push_back(std::move(cells));
  }
  require(!cols.empty(), where + " has no 1-D datasets to read as columns");
  require(!cols.front().empty(), where + " has no data rows");

  const std::size_t n = cols.front().size();
  t.rows.assign(n, std::vector<std::string>(cols.size()));
  for (std::size_t j = 0; j < cols.size(); ++j)
    for (std::size_t i = 0; i < n; ++i) t.rows[i][j] = std::move(cols[j][i]);
  return t;
}

}  // namespace moe
