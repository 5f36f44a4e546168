#include "moe/data/read_table.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "moe/core/error.hpp"
#include "moe/data/hdf5_table.hpp"

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

}  // namespace moe
