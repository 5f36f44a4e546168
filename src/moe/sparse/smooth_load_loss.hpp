#pragma once
// The smooth load estimator of noisy top-k gating (Shazeer et al. 2017, appendix A; docs/methods.md#noisy-top-k-gating-and-balancing-losses), and
// its CV^2 loss. With Z = clean logits, N = noise logits, sd = softplus(N), H = Z + eps % sd (E x T):
//   P(t, i) = Phi((Z(i, t) - kth_excluding(H(:, t), k, i)) / sd(i, t))
// the probability that expert i stays in token t's top k when its own noise is drawn again;
// kth_excluding is the k-th largest entry of H(:, t) without entry i: the (k+1)-th largest of the column
// when i is in the top k, else the k-th. Load_i = sum_t P(t, i); the loss is CV(Load)^2. Gradients flow
// into Z and N through P's own terms and through the threshold entry H(j, t) = Z(j, t) + eps sd(j, t).
// With k = E every P is 1: value and gradient 0.
#include "moe/sparse/balance_losses.hpp"

namespace moe {

// E x T matrix of P(t, i) (experts as rows, like the logits) for a noisy top-k Routing.
arma::mat smooth_load_probabilities(const Routing& routing);
// CV(Load)^2 and its gradient (dlogits and dnoise_logits). Needs a Routing from NoisyTopKRouter. With a
// shard, Load sums over the whole batch (balance_losses.hpp).
RouterLoss smooth_load_loss(const Routing& routing, const TokenShard* shard = nullptr);

}  // namespace moe
