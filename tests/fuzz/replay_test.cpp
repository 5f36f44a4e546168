// Replays the fuzz corpus (tests/fuzz/corpus/<target>/: the seeds) and the minimised reproducers of every
// bug the fuzzers found (tests/fuzz/regressions/<target>/) through the same target functions the libFuzzer
// executables run, so the regressions run in every build (gcc, and the sanitizer builds) without clang.
// Each input must come back normally: a crash, an exception or an oracle failure fails the case.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "targets/fuzz_targets.hpp"

namespace {

using Target = int (*)(const std::uint8_t*, std::size_t);

// Every file of corpus/<name> and regressions/<name>, in name order; how many were run.
std::size_t replay(const std::string& name, Target target) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (const char* kind : {"corpus", "regressions"}) {
    const fs::path dir = fs::path(MOE_FUZZ_DIR) / kind / name;
    if (!fs::is_directory(dir)) continue;
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    INFO("input: " << path.string());
    try {
      CHECK(target(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()) == 0);
    } catch (const std::exception& e) {
      FAIL_CHECK("escaped the target: " << e.what());
    }
  }
  return files.size();
}

}  // namespace

TEST_CASE("fuzz replay: csv corpus and regressions") { CHECK(replay("csv", moe::fuzz::fuzz_csv) > 0); }
TEST_CASE("fuzz replay: hdf5 corpus and regressions") { CHECK(replay("hdf5", moe::fuzz::fuzz_hdf5) > 0); }
TEST_CASE("fuzz replay: idx corpus and regressions") { CHECK(replay("idx", moe::fuzz::fuzz_idx) > 0); }
TEST_CASE("fuzz replay: tokenizer corpus and regressions") { CHECK(replay("tokenizer", moe::fuzz::fuzz_tokenizer) > 0); }
TEST_CASE("fuzz replay: config corpus and regressions") { CHECK(replay("config", moe::fuzz::fuzz_config) > 0); }
