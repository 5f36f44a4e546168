#pragma once
// Wall-clock time as recorded in result and provenance files.
#include <string>

namespace moe {
std::string utc_now_iso8601();  // e.g. "2026-11-25T13:21:30Z"
}  // namespace moe
