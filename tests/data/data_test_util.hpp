#pragma once
// Helpers for the data tests: write a small file, capture a moe::Error's message.
#include <fstream>
#include <functional>
#include <string>

#include "cli/run_command.hpp"  // moe::test::TempDir
#include "moe/core/error.hpp"

namespace moe::test {

inline std::string write_text(const TempDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir / name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// The message of the moe::Error that f throws, or "" when it throws none.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const moe::Error& e) {
    return e.what();
  }
  return "";
}

inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
inline bool one_line(const std::string& s) { return !s.empty() && s.find('\n') == std::string::npos; }

}  // namespace moe::test
