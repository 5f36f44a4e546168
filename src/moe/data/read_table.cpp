#include "moe/data/read_table.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "moe/core/error.hpp"
#include "moe/data/hdf5_table.hpp"
#include "moe/h5/hdf5.hpp"

namespace moe {

bool is_hdf5_path(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".h5" || ext == ".hdf5" || ext == ".he5";
}

Table read_table(const std::string& path, const std::string& group) {
  if (is_hdf5_path(path)) return read_hdf5_table(path, group);
  require(group.empty(), "--hdf5-group applies to HDF5 files only, not " + path);
  return read_csv(path);
}

std::vector<std::string> table_columns(const std::string& path, const std::string& group_in) {
  if (!is_hdf5_path(path)) {
    require(group_in.empty(), "--hdf5-group applies to HDF5 files only, not " + path);
    return read_csv_header(path);
  }
  const std::string group = group_in.empty() ? "/" : group_in;
  const h5::File file = h5::File::open(path);
  require(file.is_group(group), "no group '" + group + "' in " + path);
  const std::string prefix = group.back() == '/' ? group : group + "/";
  std::vector<std::string> out;
  for (const std::string& name : file.children(group))
    if (file.is_dataset(prefix + name) && file.shape(prefix + name).size() == 1) out.push_back(name);
  return out;
}

}  // namespace moe
