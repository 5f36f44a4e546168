#pragma once
// The sparse MoE layer, reference implementation (plain loops and one GEMM per expert; the oracle of the
// fast backends). T tokens X (d x T, one per column), E routed FFN experts, S shared experts:
//   routed:  Y = X + sum over token t's kept slots s of w_s FFN_{e_s}(x_t) + sum_j SharedFFN_j(x_t)
//            (a dropped slot contributes nothing: its token passes through the residual)
//   soft:    (Puigcerver et al. 2023) logits L = Phi^T X (E p slots x T); dispatch D = softmax of each
//            slot's row over the tokens, combine C = softmax of each token's column over the slots;
//            slot inputs X~ = X D^T (d x E p), slot j run by expert j / p, Y = X + FFN(X~) C + shared
// Every routed backend consumes the RoutingPlan of moe/backend/routing_plan.hpp; the combine walks tokens
// and their slots in order (no atomics), so results do not depend on the thread count.
// Auxiliary losses (layer_spec.hpp weights) are computed in forward; backward adds their gradients.
// Expert parallelism: built with a Communicator of P ranks, the layer holds experts
// [first(r), first(r) + count(r)) of E (expert_placement.hpp) and a copy of the router and the shared
// experts; each rank passes its own tokens, routing treats them as a shard of the batch of every rank's
// tokens in rank order (token_shard.hpp: capacity, priority and balancing losses of the whole batch), and
// the routed experts run through the all-to-all exchange of expert_exchange.hpp. Every rank's outputs and
// input gradients equal the single-process layer's on the concatenated batch; the copies' gradients
// (collect_replicated) are this rank's tokens' part, to be summed over the ranks before a step.
// Per-token routers only (not expert choice, balanced, soft).
#include <armadillo>
#include <memory>
#include <string>
#include <vector>

#include "moe/parallel/communicator.hpp"
#include "moe/sparse/expert_exchange.hpp"
#include "moe/sparse/expert_placement.hpp"
#include "moe/sparse/ffn_experts.hpp"
#include "moe/sparse/layer_spec.hpp"
#include "moe/sparse/routed_ffn.hpp"
#include "moe/sparse/router.hpp"
#include "moe/sparse/routing_stats.hpp"

namespace moe {

// Values of the auxiliary losses of one forward pass, unweighted, and their weighted sum.
struct AuxLosses {
  double importance = 0.0, load = 0.0, switch_aux = 0.0, z = 0.0;
  double total = 0.0;  // w_importance importance + w_load load + switch_alpha switch_aux + z_loss z
};

struct MoeForward {
  arma::mat Y;                        // d x T: the layer's output, residual included
  Routing routing;                    // routed layers: the router's output (plan, logits, probabilities)
  std::shared_ptr<RoutedFfnState> routed;  // routed layers: the experts' expert-sorted columns (routed_ffn.hpp)
  std::vector<arma::mat> inputs;      // soft: per expert, the d x p slot inputs it ran on
  std::vector<arma::mat> pre;         // soft: per expert, f x p pre-activations
  std::vector<arma::mat> outputs;     // soft: per expert, d x p outputs, before the combine weights
  std::vector<arma::mat> shared_pre;  // per shared expert: f x T
  std::vector<arma::mat> shared_out;  // per shared expert: d x T
  arma::mat logits, dispatch, combine;  // soft: E p x T each
  AuxLosses aux;
  RouterGrad aux_grad;                // d(aux.total)/d(router outputs), already weighted
  // Expert parallelism: this rank's tokens as a shard of the batch, and the exchange's state.
  std::shared_ptr<const TokenShard> shard;
  std::shared_ptr<ExpertExchangeState> exchange;
};

class SparseMoeLayer {
 public:
  // expert_parallel: the ranks that share the experts (null: this process holds them all).
  SparseMoeLayer(const SparseLayerSpec& spec, arma::uword experts, Communicator* expert_parallel = nullptr);
  void init(Rng& rng);
  void collect(ParamList& params, const std::string& prefix);  // prefix + "router/...", "expert<e>/...", "shared<j>/..."
  // The parameters every rank holds a copy of (router, soft slots, shared experts): all but the experts.
  void collect_replicated(ParamList& params, const std::string& prefix);

  // X: d x T. context: the Rng of noisy / random routing, training or not, token ids for hash routing.
  MoeForward forward(const arma::mat& X, const RouteContext& context) const;
  // dY: d x T. Adds every parameter gradient (auxiliary losses included) and returns dL/dX (d x T).
  arma::mat backward(const arma::mat& X, const MoeForward& fwd, const arma::mat& dY);
  // After an optimiser step on the batch of `fwd`: the loss-free router's bias update (no-op otherwise).
  void end_step(const MoeForward& fwd);

  // Per-expert balance of one forward pass (expert parallelism: of the whole batch, a collective call).
  // Soft MoE: importance = combine mass of each expert's slots, load = dispatch mass of its slots (p each:
  // balanced by construction), nothing dropped.
  RoutingStats stats(const MoeForward& fwd) const;
  // E x T combine weight of every expert for every token (0 where not routed; dropped slots 0).
  arma::mat combine_weights(const MoeForward& fwd) const;

  const SparseLayerSpec& spec() const { return spec_; }
  arma::uword experts() const { return experts_.layer_experts(); }  // of the layer, all ranks together
  // Expert parallelism: the ranks (null without) and which holds which experts.
  Communicator* communicator() const { return comm_; }
  // Expert parallelism on GPUs (--device cuda): move the tokens between the ranks' GPUs through `exchange`
  // (NCCL; the same ranks as the Communicator) instead of through host memory. Null: back to the host.
  void use_device_exchange(DeviceCommunicator* exchange);
  const ExpertPlacement& placement() const { return placement_; }
  FfnExperts& expert_bank() { return experts_; }  // the experts this process holds
  const FfnExperts& expert_bank() const { return experts_; }
  FfnExperts* shared_bank() { return shared_ ? &*shared_ : nullptr; }
  Router* router() { return router_.get(); }

 private:
  MoeForward forward_routed(const arma::mat& X, const RouteContext& context) const;
  MoeForward forward_soft(const arma::mat& X) const;
  arma::mat backward_routed(const arma::mat& X, const MoeForward& fwd, const arma::mat& dY);
  arma::mat backward_soft(const arma::mat& X, const MoeForward& fwd, const arma::mat& dY);
  void add_shared(const arma::mat& X, MoeForward& fwd) const;

  SparseLayerSpec spec_;
  Communicator* comm_ = nullptr;
  ExpertPlacement placement_;
  RoutedBackend backend_;
  std::unique_ptr<Router> router_;  // null for soft MoE
  arma::mat Phi_, dPhi_;            // soft MoE: d x E p slot parameters
  FfnExperts experts_;
  std::unique_ptr<FfnExperts> shared_;
};

}  // namespace moe
