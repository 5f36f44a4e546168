#include "moe/sparse/balance_losses.hpp"

#include "moe/core/error.hpp"
#include "moe/core/math.hpp"

namespace moe {

double cv_squared(const arma::vec& x, arma::vec* dx) {
  const double n = double(x.n_elem);
  if (x.n_elem <= 1) {
    if (dx) dx->zeros(x.n_elem);
    return 0.0;
  }
  const double m = arma::mean(x);
  const arma::vec c = x - m;
  const double var = arma::dot(c, c) / n, den = m * m + 1e-10;
  // d var/dx_i = 2 c_i / n (the c sum to 0); d den/dx_i = 2 m / n.
  if (dx) *dx = (2.0 / n) * c / den - var * (2.0 * m / n) / (den * den);
  return var / den;
}

RouterLoss importance_loss(const RoutingPlan& plan, const TokenShard* shard) {
  arma::vec importance(plan.experts, arma::fill::zeros);
  const std::size_t slots = plan.tokens * plan.k;
  for (std::size_t i = 0; i < slots; ++i)
    if (plan.slot_expert[i] >= 0) importance[arma::uword(plan.slot_expert[i])] += plan.slot_weight[i];
  sum_over_shards(shard, importance.memptr(), importance.n_elem);
  RouterLoss out;
  arma::vec d;
  out.value = cv_squared(importance, &d);
  out.grad.dweight.zeros(slots);
  for (std::size_t i = 0; i < slots; ++i)
    if (plan.slot_expert[i] >= 0) out.grad.dweight[i] = d[arma::uword(plan.slot_expert[i])];
  return out;
}

RouterLoss switch_aux_loss(const Routing& r, const TokenShard* shard) {
  require(r.logits.n_rows > 0, "switch loss: the router has no logits");
  const arma::uword E = r.logits.n_rows, T = r.logits.n_cols;
  RouterLoss out;
  out.grad.dlogits.zeros(E, T);
  const arma::mat P = column_softmax(r.logits, false).prob;
  // Sums over the batch: [tokens whose largest clean logit is e (E), softmax mass of e (E)].
  arma::vec sums(2 * E, arma::fill::zeros);
  for (arma::uword t = 0; t < T; ++t) sums[r.logits.col(t).index_max()] += 1.0;  // first max on ties
  if (T > 0) sums.tail(E) = arma::sum(P, 1);
  sum_over_shards(shard, sums.memptr(), sums.n_elem);
  const double batch = double(batch_tokens(shard, T));
  if (batch == 0.0) return out;
  const arma::vec f = sums.head(E) / batch, Pmean = sums.tail(E) / batch;
  out.value = double(E) * arma::dot(f, Pmean);
  if (T == 0) return out;
  // dL/dP(e, t) = E f_e / T_batch; through the softmax: dZ = P % (dP - sum_e P_e dP_e).
  const arma::vec dP = double(E) * f / batch;
  const arma::rowvec dot = dP.t() * P;
  out.grad.dlogits = P % (arma::repmat(dP, 1, T).eval().each_row() - dot);
  return out;
}

RouterLoss z_loss(const Routing& r, const TokenShard* shard) {
  require(r.logits.n_rows > 0, "z-loss: the router has no logits");
  const arma::uword T = r.logits.n_cols;
  RouterLoss out;
  out.grad.dlogits.zeros(arma::size(r.logits));
  const ColumnSoftmax sm = column_softmax(r.logits, false);
  double sum_sq = T > 0 ? arma::dot(sm.lse, sm.lse) : 0.0;
  sum_over_shards(shard, &sum_sq, 1);
  const double batch = double(batch_tokens(shard, T));
  if (batch == 0.0) return out;
  out.value = sum_sq / batch;
  if (T == 0) return out;
  // d lse_t / dZ(:, t) = P(:, t).
  out.grad.dlogits = sm.prob.each_row() % (2.0 * sm.lse / batch);
  return out;
}

void accumulate(RouterGrad& into, const RouterGrad& add, double scale) {
  auto add_to = [scale](auto& a, const auto& b) {
    if (b.is_empty()) return;
    if (a.is_empty()) a.zeros(arma::size(b));
    a += scale * b;
  };
  add_to(into.dweight, add.dweight);
  add_to(into.dlogits, add.dlogits);
  add_to(into.dnoise_logits, add.dnoise_logits);
}

}  // namespace moe
