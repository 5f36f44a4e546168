#pragma once
// What every moe-bench subcommand times with: a monotonic clock, seconds since a point, and the median of
// the timed steps (the upper middle of an even count).
#include <algorithm>
#include <chrono>
#include <vector>

namespace moe::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

}  // namespace moe::bench
