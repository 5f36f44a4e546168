#include "moe/sparse/softmax_topk_router.hpp"
#include "moe/sparse/backend_router.hpp"
#include "moe/sparse/router_registry.hpp"
#include "moe/core/error.hpp"
#include "moe/backend/routing_plan.hpp"

namespace moe {

// On the backend: top-k of the logits, weights from their softmax (renormalised over the chosen or raw).
BackendSoftmaxTopK::BackendSoftmaxTopK(const RouterSetup& setup, std::size_t k, bool renormalize)
    : logits_(setup, "W"), k_(k), renormalize_(renormalize) {}

void BackendSoftmaxTopK::route(const Tensor& X, const BackendRouteContext&, DevicePlan& plan) {
  logits_.forward(X);
  logits_.b.top_k(logits_.L, nullptr, k_, plan.slot_expert);
  logits_.b.slot_weights(logits_.P, plan.slot_expert, renormalize_, plan.slot_weight);
}

void BackendSoftmaxTopK::backward_weights(const DevicePlan& plan, const Tensor& dw, Tensor& dlogits,
                                          const RouterLossSink&, const ShardSum*) {
  logits_.b.fill(dlogits, 0.0);
  logits_.b.slot_weights_backward(logits_.P, plan.slot_expert, renormalize_, dw, dlogits);
}

namespace {
const RouterRegistration registered{{
    .name = "topk",
    .help = "softmax over W x, each token takes its k largest logits; weights renormalised over them (Mixtral) "
            "or the raw probabilities",
    .traits = {},
    .flags = {"top-k", "capacity-factor", "no-renormalize"},
    .validate = require_top_k_within,
    .make = [](const RouterSetup& s) -> std::unique_ptr<BackendRouter> {
      return std::make_unique<BackendSoftmaxTopK>(s, s.spec.top_k, s.spec.renormalize);
    },
}};
}  // namespace

}  // namespace moe
