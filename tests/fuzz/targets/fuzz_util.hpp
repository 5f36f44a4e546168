#pragma once
// Helpers shared by the fuzz targets: scratch files and a reader that turns fuzz bytes into choices.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "moe/core/error.hpp"
#include "targets/fuzz_targets.hpp"

namespace moe::fuzz {

// A scratch file path for this process, removed (with what a reader may have made next to it) on
// destruction. In /dev/shm when it is there (the targets write a file per input: tmpfs keeps that cheap,
// fsync included), else $TMPDIR or /tmp.
class ScratchFile {
 public:
  explicit ScratchFile(const std::string& name);  // e.g. "input.csv": the extension matters to some readers
  ~ScratchFile();
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;
  const std::string& path() const { return path_; }
  void write(const void* data, std::size_t size) const;  // replaces the file's content
  void write(const std::string& text) const { write(text.data(), text.size()); }

 private:
  std::string path_;
};

// MOE_FUZZ_DEBUG set in the environment: the targets say what they do on stderr (to see what an input
// reaches), and each refusal's message.
bool debug();
void note_refusal(const moe::Error& e);

// Runs f; a moe::Error (the documented way to refuse bad input) is swallowed, everything else escapes.
template <class F>
bool refuses(F&& f) {
  try {
    f();
    return false;
  } catch (const moe::Error& e) {
    note_refusal(e);
    return true;
  }
}

inline void oracle(bool ok, const std::string& what) {
  if (!ok) throw OracleFailure("oracle: " + what);
}

// Consumes fuzz bytes front to back; once they run out every draw returns 0 (so every input is a
// complete program, however short).
class ByteReader {
 public:
  ByteReader(const std::uint8_t* data, std::size_t size) : p_(data), n_(size) {}
  bool empty() const { return n_ == 0; }
  std::size_t left() const { return n_; }
  std::uint8_t u8() {
    if (n_ == 0) return 0;
    --n_;
    return *p_++;
  }
  std::uint16_t u16() { return std::uint16_t(u8() | (u8() << 8)); }
  std::uint32_t u32() { return std::uint32_t(u16()) | (std::uint32_t(u16()) << 16); }
  std::uint64_t u64() { return std::uint64_t(u32()) | (std::uint64_t(u32()) << 32); }
  bool flag() { return u8() & 1u; }
  // Uniform-ish in [0, n) (n >= 1).
  std::size_t below(std::size_t n) { return n <= 256 ? u8() % n : u32() % n; }
  template <class T, std::size_t N>
  const T& pick(const T (&items)[N]) { return items[below(N)]; }
  // A double biased towards the values that break numerics: 0, -0, tiny, huge, NaN, infinities, ...
  double number();
  // A string: one of `words` or (1 in 4) up to max_len raw bytes.
  std::string text(const std::vector<std::string>& words, std::size_t max_len = 16);
  // The remaining bytes.
  std::string rest() {
    std::string s(reinterpret_cast<const char*>(p_), n_);
    p_ += n_;
    n_ = 0;
    return s;
  }

 private:
  const std::uint8_t* p_;
  std::size_t n_;
};

}  // namespace moe::fuzz
