#include "moe/sparse/expert_choice_router.hpp"

#include "moe/sparse/backend_router.hpp"

#include <algorithm>
#include <numeric>

#include "moe/core/math.hpp"
#include "moe/sparse/softmax_weights.hpp"
#include "moe/sparse/router_registry.hpp"

namespace moe {

ExpertChoiceRouter::ExpertChoiceRouter(arma::uword inputs, arma::uword experts, double capacity_factor)
    : W_(inputs, experts), capacity_factor_(capacity_factor) {
  require(experts >= 1, "expert-choice router: needs at least one expert");
  require(capacity_factor > 0.0, "expert-choice router: the capacity factor must be positive");
}

std::size_t ExpertChoiceRouter::tokens_per_expert(std::size_t tokens) const {
  return std::min(tokens, expert_capacity(tokens, experts(), 1, capacity_factor_));
}

Routing ExpertChoiceRouter::route(const arma::mat& X, const RouteContext& context) const {
  require_whole_batch(context, "expert-choice");
  Routing r;
  const std::size_t T = X.n_cols, E = experts(), C = tokens_per_expert(T);
  r.logits = W_.logits(X);
  r.probs = column_softmax(r.logits, false).prob;
  // chosen(e, j): expert e's j-th token; each expert independently (OpenMP over experts).
  std::vector<std::int32_t> chosen(E * C);
  const arma::mat St = r.probs.t();  // T x E: expert e's scores contiguous
#pragma omp parallel for schedule(static) if (E * T >= 65536)
  for (long e = 0; e < long(E); ++e) {
    const double* score = St.colptr(arma::uword(e));
    std::vector<std::int32_t> order(T);
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + long(C), order.end(), [&](std::int32_t a, std::int32_t b) {
      return score[a] > score[b] || (score[a] == score[b] && a < b);
    });
    std::copy(order.begin(), order.begin() + long(C), chosen.begin() + long(std::size_t(e) * C));
  }
  // Token-major slots, experts ascending inside a token.
  std::vector<std::size_t> per_token(T, 0);
  for (const std::int32_t t : chosen) ++per_token[std::size_t(t)];
  const std::size_t k = std::max<std::size_t>(1, T == 0 ? 1 : *std::max_element(per_token.begin(), per_token.end()));
  std::vector<std::int32_t> slot_expert(T * k, -1);
  std::fill(per_token.begin(), per_token.end(), 0);
  for (std::size_t e = 0; e < E; ++e)
    for (std::size_t j = 0; j < C; ++j) {
      const auto t = std::size_t(chosen[e * C + j]);
      slot_expert[t * k + per_token[t]++] = std::int32_t(e);
    }
  r.norm_expert.assign(T * k, -1);
  r.renormalized = false;
  std::vector<double> w = softmax_slot_weights(r.probs, slot_expert, r.norm_expert, k, false);
  r.plan = make_plan(T, E, k, std::move(slot_expert), std::move(w), C);
  return r;
}

arma::mat ExpertChoiceRouter::backward(const arma::mat& X, const Routing& r, const RouterGrad& grad) {
  arma::mat dZ =
      softmax_slot_weights_backward(r.probs, r.plan.slot_expert, r.norm_expert, r.plan.k, false, grad.dweight);
  if (!grad.dlogits.is_empty()) dZ += grad.dlogits;
  return W_.backward(X, dZ);
}

namespace {

// On the backend: each expert takes its ceil(c T / E) best tokens of the batch by softmax score.
class BackendExpertChoice final : public BackendRouter {
 public:
  explicit BackendExpertChoice(const RouterSetup& s)
      : logits_(s, "W"), k_(s.spec.top_k),
        c_(s.spec.capacity_factor > 0.0 ? s.spec.capacity_factor : double(s.spec.top_k)), experts_(s.experts) {}
  std::size_t k() const override { return k_; }
  void init(Rng& rng, double scale) override { logits_.init(rng, scale); }
  void route(const Tensor& X, const BackendRouteContext&, DevicePlan& plan) override {
    const std::size_t N = X.cols();
    logits_.forward(X);
    plan.capacity = std::min(N, expert_capacity(N, experts_, 1, c_));  // in training and evaluation alike
    logits_.b.expert_choice(logits_.P, plan.capacity, plan);
  }
  const Tensor* logits() const override { return &logits_.L; }
  const Tensor* probs() const override { return &logits_.P; }
  const Tensor* lse() const override { return &logits_.lse; }
  void backward_logits(const Tensor& X, const Tensor& dlogits, Tensor& dX) override { logits_.backward(X, dlogits, dX); }
  void backward_weights(const DevicePlan& plan, const Tensor& dw, Tensor& dlogits, const RouterLossSink&,
                        const ShardSum*) override {
    logits_.b.fill(dlogits, 0.0);
    logits_.b.slot_weights_backward(logits_.P, plan.slot_expert, false, dw, dlogits);
  }

 private:
  RouterLogits logits_;
  std::size_t k_;
  double c_;
  std::size_t experts_;
};

const RouterRegistration registered{{
    .name = "expert-choice",
    .help = "each expert takes its ceil(c T / E) highest-scoring tokens of the batch (Zhou et al. 2022); c = "
            "--capacity-factor, or --top-k when that is <= 0",
    .traits = {.batch_wide_in_training = true, .batch_wide_in_evaluation = true},
    .flags = {"top-k", "capacity-factor"},
    .validate =
        [](const SparseLayerSpec& s, arma::uword) {
          require(s.capacity_factor > 0.0 || s.top_k >= 1,
                  "--router expert-choice takes c = --capacity-factor, or --top-k when that is <= 0: one must be positive");
        },
    .make = [](const SparseLayerSpec& s, arma::uword inputs, arma::uword experts) -> std::unique_ptr<Router> {
      const double c = s.capacity_factor > 0.0 ? s.capacity_factor : double(s.top_k);
      return std::make_unique<ExpertChoiceRouter>(inputs, experts, c);
    },
    .make_on_backend = [](const RouterSetup& s) -> std::unique_ptr<BackendRouter> {
      return std::make_unique<BackendExpertChoice>(s);
    },
}};
}  // namespace

}  // namespace moe
