#include "moe/sparse/gshard_router.hpp"

#include "moe/sparse/backend_router.hpp"
#include "moe/sparse/token_noise.hpp"

#include "moe/core/math.hpp"
#include "moe/sparse/softmax_topk_router.hpp"
#include "moe/sparse/softmax_weights.hpp"
#include "moe/sparse/token_noise.hpp"
#include "moe/sparse/router_registry.hpp"

namespace moe {

GShardRouter::GShardRouter(arma::uword inputs, arma::uword experts, GShardOptions options)
    : W_(inputs, experts), options_(options) {
  require(experts >= 2, "gshard router: needs at least two experts");
  require(options.threshold > 0.0, "gshard router: the random-routing threshold must be positive");
}

Routing GShardRouter::route(const arma::mat& X, const RouteContext& context) const {
  Routing r;
  const std::size_t T = X.n_cols, E = experts(), k = 2;
  r.logits = W_.logits(X);
  r.probs = column_softmax(r.logits, false).prob;
  std::vector<std::int32_t> chosen = top_k_per_token(r.logits, k);
  r.norm_expert = chosen;  // both stay in the normaliser even when the second is not kept
  r.renormalized = true;
  if (context.training) {
    const arma::mat u = token_draws(1, arma::uword(T), context.rng, false, shard_offset(context));
    for (std::size_t t = 0; t < T; ++t) {
      const double g1 = r.probs(arma::uword(chosen[2 * t]), t), g2 = r.probs(arma::uword(chosen[2 * t + 1]), t);
      const double keep = std::min(1.0, g2 / (g1 + g2) / options_.threshold);
      if (!(u[t] < keep)) chosen[2 * t + 1] = -1;
    }
  }
  std::vector<double> w = softmax_slot_weights(r.probs, chosen, r.norm_expert, k, true);
  r.plan = plan_routes(context, T, E, k, std::move(chosen), std::move(w), options_.capacity_factor);
  return r;
}

arma::mat GShardRouter::backward(const arma::mat& X, const Routing& r, const RouterGrad& grad) {
  arma::mat dZ = softmax_slot_weights_backward(r.probs, r.plan.slot_expert, r.norm_expert, 2, true, grad.dweight);
  if (!grad.dlogits.is_empty()) dZ += grad.dlogits;
  return W_.backward(X, dZ);
}

namespace {

// On the backend: the top 2, weights normalised over both; in training the second is kept at random.
class BackendGShard final : public BackendRouter {
 public:
  explicit BackendGShard(const RouterSetup& s) : logits_(s, "W"), threshold_(s.spec.gshard_threshold) {}
  std::size_t k() const override { return 2; }
  void init(Rng& rng, double scale) override { logits_.init(rng, scale); }
  void route(const Tensor& X, const BackendRouteContext& c, DevicePlan& plan) override {
    Backend& b = logits_.b;
    const std::size_t N = X.cols();
    logits_.forward(X);
    b.reshape(top2_, 2, N, DType::i32);
    b.top_k(logits_.L, nullptr, 2, top2_);
    b.copy(top2_, plan.slot_expert);
    b.slot_weights(logits_.P, top2_, true, plan.slot_weight);
    if (!c.training) return;
    const arma::mat draws = token_draws(1, arma::uword(N), c.noise, false, c.shard ? arma::uword(c.shard->offset()) : 0);
    b.reshape(u_, 1, N);
    if (N > 0) b.upload(u_, draws.memptr());
    b.random_second_choice(logits_.P, u_, threshold_, plan.slot_expert, plan.slot_weight);
  }
  const Tensor* logits() const override { return &logits_.L; }
  const Tensor* probs() const override { return &logits_.P; }
  const Tensor* lse() const override { return &logits_.lse; }
  void backward_logits(const Tensor& X, const Tensor& dlogits, Tensor& dX) override { logits_.backward(X, dlogits, dX); }
  void backward_weights(const DevicePlan&, const Tensor& dw, Tensor& dlogits, const RouterLossSink&,
                        const ShardSum*) override {
    logits_.b.fill(dlogits, 0.0);
    logits_.b.slot_weights_backward(logits_.P, top2_, true, dw, dlogits);  // over both of the top 2, kept or not
  }

 private:
  RouterLogits logits_;
  double threshold_;
  Tensor top2_, u_;  // each token's top 2 before the random drop; the draws
};

const RouterRegistration registered{{
    .name = "gshard",
    .help = "top-2: the best expert always, the second kept at random with probability min(1, w2 / threshold) "
            "(Lepikhin et al. 2020)",
    .traits = {},
    .flags = {"capacity-factor", "gshard-threshold"},
    .validate = [](const SparseLayerSpec&, arma::uword experts) { require(experts >= 2, "--router gshard needs at least 2 experts"); },
    .make = [](const SparseLayerSpec& s, arma::uword inputs, arma::uword experts) -> std::unique_ptr<Router> {
      return std::make_unique<GShardRouter>(inputs, experts, GShardOptions{s.gshard_threshold, s.capacity_factor});
    },
    .make_on_backend = [](const RouterSetup& s) -> std::unique_ptr<BackendRouter> {
      return std::make_unique<BackendGShard>(s);
    },
}};
}  // namespace

}  // namespace moe
