#include "moe/sparse/sigmoid_topk_router.hpp"

#include "moe/sparse/backend_router.hpp"

#include <cmath>

#include "moe/backend/scalar_functions.hpp"
#include "moe/sparse/router_registry.hpp"
#include "moe/sparse/softmax_topk_router.hpp"

namespace moe {

SigmoidTopKRouter::SigmoidTopKRouter(arma::uword inputs, arma::uword experts, SigmoidTopKOptions options)
    : W_(inputs, experts), options_(options), bias_(experts, options.bias_rate) {
  require(experts >= 1, "sigmoid top-k router: needs at least one expert");
  require(options.k >= 1 && options.k <= experts, "sigmoid top-k router: k = " + std::to_string(options.k) +
                                                      " must be between 1 and the " + std::to_string(experts) + " experts");
}

void SigmoidTopKRouter::init(Rng& rng, double scale) {
  W_.init(rng, scale);
  bias_.reset();
}

Routing SigmoidTopKRouter::route(const arma::mat& X, const RouteContext& context) const {
  Routing r;
  const std::size_t T = X.n_cols, E = experts(), k = options_.k;
  r.logits = W_.logits(X);
  r.probs = 1.0 / (1.0 + arma::exp(-r.logits));  // E x T; exp overflows to inf for z < -709: s = 0, fine
  std::vector<std::int32_t> chosen = top_k_per_token(bias_.biased(r.probs), k);  // the bias: selection only
  std::vector<double> w(T * k);
  for (std::size_t t = 0; t < T; ++t) {
    double* wt = w.data() + t * k;
    const std::int32_t* et = chosen.data() + t * k;
    if (!options_.renormalize) {
      for (std::size_t s = 0; s < k; ++s) wt[s] = r.probs(arma::uword(et[s]), t);
      continue;
    }
    // s_j / sum_i s_i as a softmax of log s over the chosen: finite even where every s underflows.
    double top = -arma::datum::inf, sum = 0.0;
    for (std::size_t s = 0; s < k; ++s) top = std::max(top, wt[s] = log_sigmoid(r.logits(arma::uword(et[s]), t)));
    for (std::size_t s = 0; s < k; ++s) sum += (wt[s] = std::exp(wt[s] - top));
    for (std::size_t s = 0; s < k; ++s) wt[s] /= sum;
  }
  r.norm_expert = chosen;
  r.renormalized = options_.renormalize;
  r.plan = plan_routes(context, T, E, k, std::move(chosen), std::move(w), options_.capacity_factor);
  return r;
}

// Per token, with g = dL/dw of its slots and the chosen experts' scores s:
//   raw:          dL/dz_j = g_j s_j (1 - s_j)
//   renormalised: w_j = s_j / S, dL/ds_j = (g_j - sum_i g_i w_i) / S, so dL/dz_j = (g_j - g.w) w_j (1 - s_j).
// The selection is piecewise constant: no gradient through it (nor through the bias).
arma::mat SigmoidTopKRouter::backward(const arma::mat& X, const Routing& r, const RouterGrad& grad) {
  const RoutingPlan& plan = r.plan;
  const std::size_t k = plan.k;
  arma::mat dZ(arma::size(r.logits), arma::fill::zeros);
  if (!grad.dweight.is_empty()) {
    require(grad.dweight.n_elem == plan.tokens * k, "sigmoid top-k router: dweight has the wrong length");
    for (std::size_t t = 0; t < plan.tokens; ++t) {
      const double* g = grad.dweight.memptr() + t * k;
      const double* w = plan.slot_weight.data() + t * k;
      double gw = 0.0;
      if (r.renormalized)
        for (std::size_t s = 0; s < k; ++s) gw += g[s] * w[s];
      for (std::size_t s = 0; s < k; ++s) {
        const arma::uword e = arma::uword(r.norm_expert[t * k + s]);
        const double score = r.probs(e, t);
        dZ(e, t) += r.renormalized ? (g[s] - gw) * w[s] * (1.0 - score) : g[s] * score * (1.0 - score);
      }
    }
  }
  if (!grad.dlogits.is_empty()) dZ += grad.dlogits;
  return W_.backward(X, dZ);
}

void SigmoidTopKRouter::end_step(const RoutingPlan& plan, const TokenShard* shard) {
  if (options_.bias_rate > 0.0) bias_.update(plan, shard, kind());
}

namespace {

// On the backend: top-k of sigmoid(L) plus the selection bias, weights the chosen sigmoids (renormalised).
class BackendSigmoidTopK final : public BackendRouter {
 public:
  explicit BackendSigmoidTopK(const RouterSetup& s)
      : logits_(s, "W"), bias_(s), k_(s.spec.top_k), renormalize_(s.spec.renormalize) {}
  std::size_t k() const override { return k_; }
  void init(Rng& rng, double scale) override { logits_.init(rng, scale); }
  void route(const Tensor& X, const BackendRouteContext&, DevicePlan& plan) override {
    Backend& b = logits_.b;
    logits_.forward(X);  // the softmax and lse too: the z-loss
    b.reshape(S_, logits_.L.rows(), X.cols());
    b.sigmoid(logits_.L, S_);
    b.top_k(S_, &bias_.bias, k_, plan.slot_expert);
    b.sigmoid_slot_weights(logits_.L, plan.slot_expert, renormalize_, plan.slot_weight);
  }
  const Tensor* logits() const override { return &logits_.L; }
  const Tensor* probs() const override { return &logits_.P; }
  const Tensor* lse() const override { return &logits_.lse; }
  void backward_logits(const Tensor& X, const Tensor& dlogits, Tensor& dX) override { logits_.backward(X, dlogits, dX); }
  void backward_weights(const DevicePlan& plan, const Tensor& dw, Tensor& dlogits, const RouterLossSink&,
                        const ShardSum*) override {
    logits_.b.fill(dlogits, 0.0);
    logits_.b.sigmoid_slot_weights_backward(logits_.L, plan.slot_expert, renormalize_, dw, dlogits);
  }
  void collect_state(ParamList& params) override { bias_.collect_state(params); }
  void end_step(const DevicePlan& plan, const ShardSum* shard) override { bias_.end_step(plan, shard); }
  void state_to_host() override { bias_.to_host(); }
  void state_from_host() override { bias_.from_host(); }
  bool state_changed() const override { return bias_.changed(); }

 private:
  RouterLogits logits_;
  SelectionBias bias_;
  std::size_t k_;
  bool renormalize_;
  Tensor S_;  // E x T sigmoid scores
};

const RouterRegistration registered{{
    .name = "sigmoid-topk",
    .help = "one sigmoid score per expert, top-k on score + a loss-free balancing bias (--bias-rate, 0: none), "
            "weights the chosen scores normalised to sum 1 (DeepSeek-V3)",
    .traits = {.keeps_step_state = true},
    .flags = {"top-k", "capacity-factor", "no-renormalize", "bias-rate"},
    .validate = require_top_k_within,
    .make = [](const SparseLayerSpec& s, arma::uword inputs, arma::uword experts) -> std::unique_ptr<Router> {
      return std::make_unique<SigmoidTopKRouter>(inputs, experts,
                                                 SigmoidTopKOptions{s.top_k, s.renormalize, s.bias_rate, s.capacity_factor});
    },
    .make_on_backend = [](const RouterSetup& s) -> std::unique_ptr<BackendRouter> {
      return std::make_unique<BackendSigmoidTopK>(s);
    },
}};
}  // namespace

}  // namespace moe
