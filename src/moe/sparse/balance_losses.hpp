#pragma once
// Auxiliary router losses with their gradients (docs/methods.md, the sparse-gating sections). Each returns its value,
// unweighted (the caller multiplies by w_importance, alpha = 0.01, c_z = 0.001, ...), and its gradient
// as a RouterGrad for Router::backward. E experts, T tokens, k slots.
//   importance_loss   CV(Importance)^2, Importance_e = sum over slots routed to e of the slot weight
//                     (dropped slots included: the gate value exists even when the expert is full)
//   switch_aux_loss   E * sum_e f_e P_e; f_e = fraction of tokens whose largest clean logit is e (no
//                     gradient), P_e = mean over tokens of softmax(logits)_e
//   z_loss            mean over tokens of logsumexp(logits)^2 (ST-MoE)
// The smooth load loss of noisy top-k is in smooth_load_loss.hpp. With a TokenShard (expert parallelism)
// the routing covers one shard of a batch: the per-expert sums and the token count are those of the whole
// batch (collective calls), the gradient is this shard's part of the batch's.
#include <armadillo>

#include "moe/sparse/router.hpp"

namespace moe {

struct RouterLoss {
  double value = 0.0;
  RouterGrad grad;
};

// CV^2 = population variance / (mean^2 + 1e-10) of x (length E); 0 for E <= 1. With dx, writes dCV^2/dx.
double cv_squared(const arma::vec& x, arma::vec* dx = nullptr);

RouterLoss importance_loss(const RoutingPlan& plan, const TokenShard* shard = nullptr);
RouterLoss switch_aux_loss(const Routing& routing, const TokenShard* shard = nullptr);
RouterLoss z_loss(const Routing& routing, const TokenShard* shard = nullptr);

// into += scale * add, member by member (an empty member counts as zero).
void accumulate(RouterGrad& into, const RouterGrad& add, double scale);

}  // namespace moe
