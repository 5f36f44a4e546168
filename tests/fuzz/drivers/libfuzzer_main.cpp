// libFuzzer entry point of one fuzz target: MOE_FUZZ_FUNCTION names the target function (fuzz_csv, ...;
// tests/fuzz/CMakeLists.txt sets it). Built only with MOE_FUZZ=ON; tests/CMakeLists.txt keeps this folder
// out of the doctest binary, which calls the same functions from replay_test.cpp.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "targets/fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    return moe::fuzz::MOE_FUZZ_FUNCTION(data, size);
  } catch (const std::exception& e) {
    // Anything but a moe::Error (which the target catches) is a finding: say what, and crash so that
    // libFuzzer saves the input.
    std::fprintf(stderr, "fuzz target: uncaught exception: %s\n", e.what());
    std::abort();
  }
}
