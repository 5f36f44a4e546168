#include "moe/sparse/switch_router.hpp"

#include "moe/sparse/router_registry.hpp"

namespace moe {

namespace {
const RouterRegistration registered{{
    .name = "switch",
    .help = "top-1, weight the raw softmax probability of the chosen expert (Switch Transformer, Fedus et al. 2021)",
    .traits = {},
    .flags = {"capacity-factor"},
    .validate = {},
    .make = [](const SparseLayerSpec& s, arma::uword inputs, arma::uword experts) -> std::unique_ptr<Router> {
      return std::make_unique<SwitchRouter>(inputs, experts, s.capacity_factor);
    },
}};
}  // namespace

}  // namespace moe
