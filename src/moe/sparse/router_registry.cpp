#include "moe/sparse/router_registry.hpp"

#include "moe/core/error.hpp"

namespace moe {

const RouterEntry& router_entry(const std::string& name) { return RouterRegistry::instance().get(name, "--router"); }

void require_top_k_within(const SparseLayerSpec& spec, arma::uword experts) {
  require(spec.top_k >= 1 && spec.top_k <= experts, "--top-k must be between 1 and --experts (got " +
                                                        std::to_string(spec.top_k) + " of " + std::to_string(experts) + ")");
}

}  // namespace moe
