#include "moe/sparse/switch_router.hpp"

#include "moe/sparse/backend_router.hpp"
#include "moe/sparse/softmax_topk_router.hpp"

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
    .make_on_backend = [](const RouterSetup& s) -> std::unique_ptr<BackendRouter> {
      return std::make_unique<BackendSoftmaxTopK>(s, 1, false);  // the raw probability of the one chosen
    },
}};
}  // namespace

}  // namespace moe
