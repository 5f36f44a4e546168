#pragma once
// Running external programs (praat, sha256sum, dpkg-query) without a shell, so paths need no quoting.
#include <string>
#include <vector>

namespace moe {

// Full path of `name` found on $PATH (executable regular file), or "" when absent.
std::string find_program(const std::string& name);

struct ProcessResult {
  int status = -1;     // exit status; 127 when the program could not be started; -1 killed by a signal
  std::string output;  // stdout and stderr together
};

// Runs argv[0] (searched on $PATH) with argv, stdin from /dev/null, and waits for it.
ProcessResult run_process(const std::vector<std::string>& argv);

// First non-empty line of `text`, trimmed (for one-line error messages quoting a tool's output).
std::string first_line(const std::string& text);

}  // namespace moe
