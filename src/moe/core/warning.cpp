#include "moe/core/warning.hpp"

#include <errno.h>  // program_invocation_short_name (glibc)
#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <set>

namespace moe {

namespace {

struct State {
  std::mutex mutex;
  std::set<std::string> seen;             // keys already reported
  std::vector<std::string>* capture = nullptr;  // non-null while a WarningCapture is alive
};

State& state() {
  static State s;
  return s;
}

std::string program_name() {
  const char* name = program_invocation_short_name;
  return name && *name ? name : "moekit";
}

}  // namespace

void warn(const std::string& key, const std::string& message) {
  std::string line = message;
  for (char& c : line)
    if (c == '\n' || c == '\r') c = ' ';
  State& s = state();
  const std::lock_guard<std::mutex> lock(s.mutex);
  if (!s.seen.insert(key).second) return;
  if (s.capture) {
    s.capture->push_back(line);
    return;
  }
  // On a terminal a progress bar (moe/train/progress.hpp) may hold the current line: clear it first; the
  // bar redraws itself below on its next update.
  const char* clear = ::isatty(::fileno(stderr)) ? "\r\033[K" : "";
  std::fprintf(stderr, "%s%s: warning: %s\n", clear, program_name().c_str(), line.c_str());
  std::fflush(stderr);
}

struct WarningCapture::Saved {
  std::set<std::string> seen;
  std::vector<std::string>* capture = nullptr;
  std::vector<std::string> messages;
};

WarningCapture::WarningCapture() : saved_(new Saved) {
  State& s = state();
  const std::lock_guard<std::mutex> lock(s.mutex);
  saved_->seen.swap(s.seen);
  saved_->capture = s.capture;
  s.capture = &saved_->messages;
}

WarningCapture::~WarningCapture() {
  State& s = state();
  {
    const std::lock_guard<std::mutex> lock(s.mutex);
    s.seen.swap(saved_->seen);
    s.capture = saved_->capture;
  }
  delete saved_;
}

std::vector<std::string> WarningCapture::messages() const {
  const std::lock_guard<std::mutex> lock(state().mutex);
  return saved_->messages;
}

bool WarningCapture::contains(const std::string& needle) const { return count(needle) > 0; }

std::size_t WarningCapture::count(const std::string& needle) const {
  std::size_t n = 0;
  for (const std::string& m : messages()) n += m.find(needle) != std::string::npos;
  return n;
}

std::string format_short(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", value);
  return buf;
}

}  // namespace moe
