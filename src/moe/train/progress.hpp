#pragma once
// A one-line progress bar on stderr: epoch, loss, metric, elapsed, ETA. Silent when stderr is not a
// terminal or when quiet, so logs and CI output stay clean.
#include <chrono>
#include <string>

namespace moe {

class ProgressBar {
 public:
  ProgressBar(std::string label, std::size_t total, bool quiet);
  ~ProgressBar();
  // Redraws at most ~10 times a second (and always on the last step).
  void update(std::size_t done, const std::string& status);
  void finish();
  bool enabled() const { return enabled_; }

 private:
  std::string label_;
  std::size_t total_;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

std::string format_seconds(double seconds);  // "3.2s", "4m05s", "1h02m"

}  // namespace moe
