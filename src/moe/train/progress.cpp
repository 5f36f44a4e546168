#include "moe/train/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace moe {

ProgressBar::ProgressBar(std::string label, std::size_t total, bool quiet)
    : label_(std::move(label)), total_(total), enabled_(!quiet && isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()), last_draw_(start_ - std::chrono::seconds(1)) {}

ProgressBar::~ProgressBar() { finish(); }

std::string format_seconds(double s) {
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%.1fs", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%dm%02ds", int(s) / 60, int(s) % 60);
  else std::snprintf(buf, sizeof buf, "%dh%02dm", int(s) / 3600, (int(s) % 3600) / 60);
  return buf;
}

void ProgressBar::update(std::size_t done, const std::string& status) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (done < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double frac = total_ ? double(done) / double(total_) : 1.0;
  const double eta = done ? elapsed * (1.0 - frac) / frac : 0.0;
  constexpr int width = 24;
  std::string bar(std::size_t(frac * width), '#');
  bar.resize(width, ' ');
  std::fprintf(stderr, "\r%s [%s] %zu/%zu %s  %s elapsed, ETA %s\033[K", label_.c_str(), bar.c_str(), done, total_,
               status.c_str(), format_seconds(elapsed).c_str(), format_seconds(eta).c_str());
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (!enabled_ || finished_) return;
  finished_ = true;
  std::fprintf(stderr, "\n");
}

}  // namespace moe
