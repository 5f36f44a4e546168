#include "moe/core/output_path.hpp"

#include <unistd.h>

#include <filesystem>

#include "moe/core/error.hpp"

namespace moe {

namespace fs = std::filesystem;

namespace {

const char* not_regular(const fs::file_status& st) {
  switch (st.type()) {
    case fs::file_type::directory: return "it is a directory";
    case fs::file_type::block:
    case fs::file_type::character: return "it is a device, not a regular file";
    case fs::file_type::fifo: return "it is a FIFO, not a regular file";
    case fs::file_type::socket: return "it is a socket, not a regular file";
    default: return "it is not a regular file";
  }
}

// Follows the links at `path` until a path that is not a link (a missing file included). A relative
// link target is taken from the link's directory, as the kernel does.
fs::path follow_links(fs::path path, const std::string& given) {
  std::error_code ec;
  for (int hops = 0; fs::is_symlink(fs::symlink_status(path, ec)); ++hops) {
    if (hops == 40) fail("cannot write " + given + ": too many levels of symbolic links");
    const fs::path target = fs::read_symlink(path, ec);
    if (ec) fail("cannot write " + given + ": " + ec.message());
    path = target.is_absolute() ? target : path.parent_path() / target;
  }
  return path;
}

}  // namespace

std::string output_target(const std::string& path) {
  if (path.empty()) fail("cannot write a file: the output path is empty");
  const fs::path target = follow_links(path, path);
  const std::string via = target.string() == path ? "" : " (the link's target " + target.string() + ")";
  std::error_code ec;
  const fs::file_status st = fs::status(target, ec);
  if (fs::exists(st) && !fs::is_regular_file(st)) fail("cannot write " + path + via + ": " + not_regular(st));
  fs::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  const fs::file_status dir_status = fs::status(dir, ec);
  if (!fs::exists(dir_status)) fail("cannot write " + path + ": directory " + dir.string() + " does not exist");
  if (!fs::is_directory(dir_status)) fail("cannot write " + path + ": " + dir.string() + " is not a directory");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    fail("cannot write " + path + ": directory " + dir.string() + " is not writable");
  return target.string();
}

void refuse_output_over_inputs(const NamedPath& output, const std::vector<NamedPath>& inputs) {
  std::error_code ec;
  if (output.path.empty() || !fs::exists(output.path, ec)) return;  // a new file is no input
  for (const NamedPath& input : inputs) {
    if (input.path.empty()) continue;
    if (fs::equivalent(output.path, input.path, ec) && !ec)
      fail(output.flag + " " + output.path + " is the input file " + input.path + " (" + input.flag +
           "): writing it would destroy the input; choose another output");
  }
}

}  // namespace moe
