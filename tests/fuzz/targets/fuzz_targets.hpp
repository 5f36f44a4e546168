#pragma once
// The fuzz targets. Each takes arbitrary bytes, feeds them to one family of the library's input
// readers, and returns 0. Bad input must end in a moe::Error, which the target catches; anything else (a
// crash, an exception of another type, undefined behaviour, a leak, a hang, an absurd allocation) is a
// finding. A target may also throw moe::fuzz::OracleFailure when a reader accepts input but breaks one of
// its documented promises (e.g. a CSV round trip that changes the table).
//
// Built twice: into the libFuzzer executables fuzz-<name> (MOE_FUZZ=ON, clang; tests/fuzz/drivers) and
// into the doctest suite, which replays tests/fuzz/corpus/<name>/ and tests/fuzz/regressions/<name>/
// through the same functions (tests/fuzz/replay_test.cpp).
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace moe::fuzz {

// A documented promise broken on input the reader accepted. Deliberately not a moe::Error.
struct OracleFailure : std::logic_error {
  using std::logic_error::logic_error;
};

int fuzz_csv(const std::uint8_t* data, std::size_t size);        // CSV text -> table -> data sets
int fuzz_hdf5(const std::uint8_t* data, std::size_t size);       // bytes -> program building an HDF5 file
int fuzz_idx(const std::uint8_t* data, std::size_t size);        // IDX file bytes, plain and gzipped
int fuzz_tokenizer(const std::uint8_t* data, std::size_t size);  // text -> tokens, corpus, vocabulary
int fuzz_config(const std::uint8_t* data, std::size_t size);     // moe-train --config TOML

}  // namespace moe::fuzz
