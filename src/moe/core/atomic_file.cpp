#include "moe/core/atomic_file.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "moe/core/error.hpp"
#include "moe/core/output_path.hpp"

namespace moe {

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  const std::string target = output_target(path);  // refuses a device, FIFO or directory; follows links
  const std::string temp = target + ".tmp-" + std::to_string(::getpid());
  std::error_code ec;
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) fail("cannot write " + path + ": directory missing or not writable");
    try {
      write(out);
    } catch (...) {
      out.close();
      std::filesystem::remove(temp, ec);
      throw;
    }
    out.flush();
    if (!out) {
      out.close();
      std::filesystem::remove(temp, ec);
      fail("cannot write " + path + ": write failed (disk full?)");
    }
  }
  std::filesystem::rename(temp, target, ec);
  if (ec) {
    const std::string reason = ec.message();
    std::filesystem::remove(temp, ec);
    fail("cannot write " + path + ": " + reason);
  }
}

}  // namespace moe
