#include "moe/sparse/softmax_topk_router.hpp"
#include "moe/sparse/backend_router.hpp"
#include "moe/sparse/router_registry.hpp"
#include "moe/core/error.hpp"
#include "moe/backend/routing_plan.hpp"

namespace moe {

namespace {

const RouterRegistration registered{{
    .name = "switch",
    .help = "top-1, weight the raw softmax probability of the chosen expert (Switch Transformer, Fedus et al. 2021)",
    .traits = {},
    .flags = {"capacity-factor"},
    .validate = {},
    .make = [](const RouterSetup& s) -> std::unique_ptr<BackendRouter> {
      return std::make_unique<BackendSoftmaxTopK>(s, 1, false);  // the raw probability of the one chosen
    },
}};

}  // namespace

}  // namespace moe
