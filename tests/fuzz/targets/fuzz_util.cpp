#include "targets/fuzz_util.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>

namespace moe::fuzz {

namespace {

std::string scratch_dir() {
  std::error_code ec;
  if (std::filesystem::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0) return "/dev/shm";
  const char* tmp = std::getenv("TMPDIR");
  return tmp && *tmp ? tmp : "/tmp";
}

}  // namespace

bool debug() {
  static const bool on = std::getenv("MOE_FUZZ_DEBUG") != nullptr;
  return on;
}

void note_refusal(const moe::Error& e) {
  if (debug()) std::fprintf(stderr, "refused: %s\n", e.what());
}

ScratchFile::ScratchFile(const std::string& name)
    : path_(scratch_dir() + "/moe-fuzz-" + std::to_string(::getpid()) + "-" + name) {}

ScratchFile::~ScratchFile() {
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

void ScratchFile::write(const void* data, std::size_t size) const {
  std::ofstream out(path_, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) throw std::runtime_error("fuzz harness: cannot write " + path_);
}

double ByteReader::number() {
  constexpr double inf = std::numeric_limits<double>::infinity();
  static const double special[] = {0.0,
                                   -0.0,
                                   1.0,
                                   -1.0,
                                   0.5,
                                   2.0,
                                   3.0,
                                   255.0,
                                   1e-300,
                                   std::numeric_limits<double>::denorm_min(),
                                   1e300,
                                   -1e300,
                                   std::numeric_limits<double>::max(),
                                   std::numeric_limits<double>::lowest(),
                                   inf,
                                   -inf,
                                   std::numeric_limits<double>::quiet_NaN(),
                                   9007199254740993.0,   // 2^53 + 1 rounds to 2^53
                                   18446744073709551616.0,  // 2^64
                                   -9223372036854775808.0,  // -2^63
                                   1e12,
                                   -1e-12,
                                   0.1};
  const std::uint8_t k = u8();
  if (k < 3 * std::size(special)) return special[k % std::size(special)];
  if (k < 240) return double(std::int8_t(u8())) / 4.0;  // small values, quarters
  std::uint64_t bits = u64();
  double v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

std::string ByteReader::text(const std::vector<std::string>& words, std::size_t max_len) {
  const std::uint8_t k = u8();
  if (k % 4 != 3 && !words.empty()) return words[u8() % words.size()];
  const std::size_t len = below(max_len + 1);
  std::string s;
  for (std::size_t i = 0; i < len && !empty(); ++i) s += char(u8());
  return s;
}

}  // namespace moe::fuzz
