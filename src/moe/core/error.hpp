#pragma once
// One error type for every user-facing failure. The message is a single line naming the problem;
// apps print it as "moe-train: error: <message>" and exit non-zero.
#include <stdexcept>
#include <string>

namespace moe {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] inline void fail(const std::string& message) { throw Error(message); }

inline void require(bool condition, const std::string& message) {
  if (!condition) fail(message);
}

}  // namespace moe
