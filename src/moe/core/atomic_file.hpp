#pragma once
// Files appear whole or not at all (docs/architecture.md#principles): `write` fills a stream on
// "<path>.tmp-<pid>", which is renamed onto <path> only when every byte was written (<path> as
// moe/core/output_path.hpp allows: a regular file or nothing, a symbolic link written through); on any
// failure the temporary is removed
// and a one-line moe::Error names the path. (HDF5 files do the same inside h5::File.)
#include <functional>
#include <ostream>
#include <string>

namespace moe {

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);

}  // namespace moe
