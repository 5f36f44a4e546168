#pragma once
// Locale-independent parsing of one table cell as a double (std::from_chars, so "1.5" means 1.5
// whatever LC_NUMERIC says). Shared by build_dataset and the column summary.
#include <optional>
#include <string_view>

namespace moe {

// The value of `cell` (surrounding spaces and a leading '+' allowed), or nullopt when the cell is
// empty or not a number. "nan", "inf", "NaN", "Infinity" parse to non-finite values: callers decide.
std::optional<double> parse_number(std::string_view cell);

}  // namespace moe
