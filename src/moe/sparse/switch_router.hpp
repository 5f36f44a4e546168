#pragma once
// Switch Transformer router (Fedus et al. 2021): top-1, weight = the softmax probability of the chosen
// expert (not renormalised, so the router still gets a gradient), capacity ceil(T / E * c) with c = 1.0
// by default; overflowing tokens are dropped. Pair it with switch_aux_loss (balance_losses.hpp).
#include "moe/sparse/softmax_topk_router.hpp"

namespace moe {

class SwitchRouter final : public SoftmaxTopKRouter {
 public:
  SwitchRouter(arma::uword inputs, arma::uword experts, double capacity_factor = 1.0)
      : SoftmaxTopKRouter(inputs, experts, SoftmaxTopKOptions{1, false, capacity_factor}) {}
  std::string kind() const override { return "switch"; }
};

}  // namespace moe
