#include "moe/backend/backend_registry.hpp"

#include <algorithm>

namespace moe {

std::unique_ptr<Backend> make_backend(const std::string& device, const std::string& precision) {
  const BackendEntry& entry = BackendRegistry::instance().get(device, "--device");
  Precision p = entry.precisions.front();
  if (!precision.empty()) {
    p = parse_precision(precision);
    if (std::find(entry.precisions.begin(), entry.precisions.end(), p) == entry.precisions.end()) {
      std::vector<std::string> names;
      for (const Precision q : entry.precisions) names.push_back(precision_name(q));
      fail("--device " + device + " computes in " + or_list(names) + ", not " + precision);
    }
  }
  if (entry.unavailable) {
    const std::string why = entry.unavailable();
    require(why.empty(), "--device " + device + ": " + why);
  }
  return entry.make(p);
}

}  // namespace moe
