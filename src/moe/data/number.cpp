#include "moe/data/number.hpp"

#include <charconv>
#include <cmath>

namespace moe {

std::optional<double> parse_number(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  // Out-of-range magnitudes (1e999) report result_out_of_range: treat as not finite rather than junk.
  if (ec == std::errc::result_out_of_range && end == s.data() + s.size())
    return (s.front() == '-') ? -HUGE_VAL : HUGE_VAL;
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace moe
