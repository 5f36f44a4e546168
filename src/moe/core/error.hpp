#pragma once
// One error type for every user-facing failure. The message is a single line naming the problem;
// apps print it as "moe-train: error: <message>" and exit non-zero.
#include <stdexcept>
#include <string>

namespace moe {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A command line that asks for something the program cannot do as asked (e.g. a flag that the chosen
// model does not read): the apps exit with 2, as for a malformed command line.
struct UsageError : Error {
  using Error::Error;
};

[[noreturn]] inline void fail(const std::string& message) { throw Error(message); }

inline void require(bool condition, const std::string& message) {
  if (!condition) fail(message);
}

}  // namespace moe
