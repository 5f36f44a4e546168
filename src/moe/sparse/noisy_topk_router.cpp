#include "moe/sparse/noisy_topk_router.hpp"

#include "moe/core/math.hpp"
#include "moe/sparse/softmax_topk_router.hpp"
#include "moe/sparse/softmax_weights.hpp"
#include "moe/sparse/token_noise.hpp"
#include "moe/sparse/router_registry.hpp"

namespace moe {

NoisyTopKRouter::NoisyTopKRouter(arma::uword inputs, arma::uword experts, NoisyTopKOptions options)
    : Wg_(inputs, experts), Wnoise_(inputs, experts), options_(options) {
  require(experts >= 1, "noisy top-k router: needs at least one expert");
  require(options.k >= 1 && options.k <= experts,
          "noisy top-k router: k = " + std::to_string(options.k) + " must be between 1 and the " +
              std::to_string(experts) + " experts");
}

void NoisyTopKRouter::init(Rng& rng, double scale) {
  Wg_.init(rng, scale);
  Wnoise_.init(rng, scale);
}

void NoisyTopKRouter::collect(ParamList& params, const std::string& prefix) {
  Wg_.collect(params, prefix + "W_g");
  Wnoise_.collect(params, prefix + "W_noise");
}

Routing NoisyTopKRouter::route(const arma::mat& X, const RouteContext& context) const {
  Routing r;
  const std::size_t T = X.n_cols, E = experts(), k = options_.k;
  r.logits = Wg_.logits(X);
  r.noise_logits = Wnoise_.logits(X);
  if (context.training) {
    r.noise = token_draws(arma::uword(E), arma::uword(T), context.rng, true, shard_offset(context));
    r.noisy_logits = r.logits + r.noise % map_entries(r.noise_logits, softplus<double>);
  } else {
    r.noise.zeros(E, T);
    r.noisy_logits = r.logits;
  }
  r.probs = column_softmax(r.noisy_logits, false).prob;
  std::vector<std::int32_t> chosen = top_k_per_token(r.noisy_logits, k);
  r.norm_expert = chosen;
  r.renormalized = true;
  std::vector<double> w = softmax_slot_weights(r.probs, chosen, r.norm_expert, k, true);
  r.plan = plan_routes(context, T, E, k, std::move(chosen), std::move(w), options_.capacity_factor);
  return r;
}

arma::mat NoisyTopKRouter::backward(const arma::mat& X, const Routing& r, const RouterGrad& grad) {
  // dL/dH from the weights; H = Z + eps % softplus(N) gives dZ = dH and dN = dH % eps % sigmoid(N).
  const arma::mat dH =
      softmax_slot_weights_backward(r.probs, r.plan.slot_expert, r.norm_expert, r.plan.k, true, grad.dweight);
  arma::mat dZ = dH;
  if (!grad.dlogits.is_empty()) dZ += grad.dlogits;
  arma::mat dN = dH % r.noise % map_entries(r.noise_logits, sigmoid);
  if (!grad.dnoise_logits.is_empty()) dN += grad.dnoise_logits;
  return Wg_.backward(X, dZ) + Wnoise_.backward(X, dN);
}

namespace {
const RouterRegistration registered{{
    .name = "noisy-topk",
    .help = "top-k of W x + noise scaled by softplus(W_noise x), weights a softmax over the chosen (Shazeer et al. "
            "2017); weights start at 0; --w-load adds the smooth load loss",
    .traits = {.zero_init = true},
    .flags = {"top-k", "capacity-factor", "w-load"},
    .validate = require_top_k_within,
    .make = [](const SparseLayerSpec& s, arma::uword inputs, arma::uword experts) -> std::unique_ptr<Router> {
      return std::make_unique<NoisyTopKRouter>(inputs, experts, NoisyTopKOptions{s.top_k, s.capacity_factor});
    },
}};
}  // namespace

}  // namespace moe
