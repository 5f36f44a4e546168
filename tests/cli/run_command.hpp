#pragma once
// Runs an app as a user would and captures its exit status, stdout and stderr (for the CLI tests).
#include <sys/wait.h>

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace moe::test {

struct CommandResult {
  int status = -1;  // exit code; 128 + signal when killed
  std::string out, err;
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A fresh, empty directory under the system temp dir, removed when the object dies.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& tag) {
    path = std::filesystem::temp_directory_path() /
           ("moekit-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
  static int& counter() {
    static int c = 0;
    return c;
  }
};

inline CommandResult run_command(const std::string& command) {
  TempDir dir("cmd");
  const std::string out = dir / "out", err = dir / "err";
  const int raw = std::system((command + " >'" + out + "' 2>'" + err + "' </dev/null").c_str());
  CommandResult r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
  r.out = slurp(out);
  r.err = slurp(err);
  // A sanitizer report from the app (the sanitized builds of scripts/asan.sh and scripts/tsan.sh) fails
  // the test, also one that expects the app to fail: those scripts set exitcode=86, and the report is on
  // stderr (UBSan ignores log_path in GCC's ASan+UBSan runtime, so reports are not collected in files).
  const bool report = r.status == 86 || r.err.find(": runtime error: ") != std::string::npos ||
                      r.err.find("ERROR: AddressSanitizer") != std::string::npos ||
                      r.err.find("ERROR: LeakSanitizer") != std::string::npos ||
                      r.err.find("WARNING: ThreadSanitizer") != std::string::npos;
  if (report) FAIL_CHECK("sanitizer report (exit " << r.status << ") from: " << command << "\n" << r.err);
  return r;
}

inline int count_lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n + (!s.empty() && s.back() != '\n');
}

}  // namespace moe::test
