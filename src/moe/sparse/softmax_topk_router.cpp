#include "moe/sparse/softmax_topk_router.hpp"

#include "moe/sparse/backend_router.hpp"

#include "moe/core/math.hpp"
#include "moe/sparse/softmax_weights.hpp"
#include "moe/backend/topk.hpp"
#include "moe/sparse/router_registry.hpp"

namespace moe {

std::vector<std::int32_t> top_k_per_token(const arma::mat& Z, std::size_t k) {
  const long T = long(Z.n_cols);
  std::vector<std::int32_t> out(std::size_t(T) * k);
#pragma omp parallel for schedule(static) if (T >= 1024)
  for (long t = 0; t < T; ++t) top_k_indices(Z.colptr(arma::uword(t)), Z.n_rows, k, out.data() + std::size_t(t) * k);
  return out;
}

SoftmaxTopKRouter::SoftmaxTopKRouter(arma::uword inputs, arma::uword experts, SoftmaxTopKOptions options)
    : W_(inputs, experts), options_(options) {
  require(experts >= 1, "top-k router: needs at least one expert");
  require(options.k >= 1 && options.k <= experts,
          "top-k router: k = " + std::to_string(options.k) + " must be between 1 and the " + std::to_string(experts) + " experts");
}

Routing SoftmaxTopKRouter::route(const arma::mat& X, const RouteContext& context) const {
  Routing r;
  const std::size_t T = X.n_cols, E = experts(), k = options_.k;
  r.logits = W_.logits(X);
  r.probs = column_softmax(r.logits, false).prob;
  std::vector<std::int32_t> chosen = top_k_per_token(r.logits, k);
  r.norm_expert = chosen;
  r.renormalized = options_.renormalize;
  std::vector<double> w = softmax_slot_weights(r.probs, chosen, r.norm_expert, k, r.renormalized);
  r.plan = plan_routes(context, T, E, k, std::move(chosen), std::move(w), options_.capacity_factor);
  return r;
}

arma::mat SoftmaxTopKRouter::backward(const arma::mat& X, const Routing& r, const RouterGrad& grad) {
  arma::mat dZ = softmax_slot_weights_backward(r.probs, r.plan.slot_expert, r.norm_expert, r.plan.k, r.renormalized,
                                               grad.dweight);
  if (!grad.dlogits.is_empty()) dZ += grad.dlogits;
  return W_.backward(X, dZ);
}

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
    .make = [](const SparseLayerSpec& s, arma::uword inputs, arma::uword experts) -> std::unique_ptr<Router> {
      return std::make_unique<SoftmaxTopKRouter>(inputs, experts, SoftmaxTopKOptions{s.top_k, s.renormalize, s.capacity_factor});
    },
    .make_on_backend = [](const RouterSetup& s) -> std::unique_ptr<BackendRouter> {
      return std::make_unique<BackendSoftmaxTopK>(s, s.spec.top_k, s.spec.renormalize);
    },
}};
}  // namespace

}  // namespace moe
