#include "moe/backend/backend_registry.hpp"

#include <algorithm>

namespace moe {

namespace {

// The entry and precision asked for, checked.
std::pair<const BackendEntry*, Precision> resolve(const std::string& device, const std::string& precision) {
  const BackendEntry& entry = BackendRegistry::instance().get(device, "--device");
  Precision p = entry.precisions.front();
  if (!precision.empty()) {
    std::vector<std::string> names;
    for (const Precision q : entry.precisions) names.push_back(precision_name(q));
    require(std::find(names.begin(), names.end(), precision) != names.end(),
            "--device " + device + " computes in " + or_list(names) + ", not --precision " + precision);
    p = parse_precision(precision);
  }
  if (entry.unavailable) {
    const std::string why = entry.unavailable();
    require(why.empty(), "--device " + device + ": " + why);
  }
  return {&entry, p};
}

}  // namespace

void check_backend(const std::string& device, const std::string& precision) { resolve(device, precision); }

std::unique_ptr<Backend> make_backend(const std::string& device, const std::string& precision) {
  const auto [entry, p] = resolve(device, precision);
  return entry->make(p);
}

}  // namespace moe
