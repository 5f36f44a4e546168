#pragma once
// The sparse MoE layer on the compute backend (moe/backend/backend.hpp), written once for every network
// that holds one (--model sparse, the language model's --moe-layer). T tokens X (D x T, one per column),
// E routed FFN experts of width F, S shared experts:
//   L  = W_r X                      E x T   router logits; P = softmax(L), lse = logsumexp(L)
//   slots: topk, switch: top-k of L, weights from P (renormalised, or raw for switch);
//          noisy-topk: top-k of L + eps softplus(W_noise X) (training), weights renormalised;
//          gshard: the top 2, the second kept at random in training; loss-free: top-k of P + bias;
//          sigmoid-topk: top-k of sigmoid(L) + bias, weights from sigmoid(L); hash: the token ids'
//          hash, weight 1; expert choice: each expert's top tokens; balanced: a balanced assignment
//   Y  = X + sum_s w_s FFN_{e_s}(X) + sum_j Shared_j(X)   (capacity drops in training)
//   soft MoE (Puigcerver et al. 2023) instead of routing: logits Phi^T X (E p slots x T), dispatch =
//   softmax of each slot's row over the tokens, combine = softmax of each token's column over the
//   slots; slots = X dispatch^T run by expert j / p; Y = X + outputs combine + shared
// Auxiliary losses (layer_spec.hpp's weights): importance CV^2, the smooth load loss, Switch, z-loss.
// Parameters and gradients are tensors registered with the network's BackendParams under `prefix`
// (router/W or router/W_g and router/W_noise or router/Phi, expert<e>/{W1,b1,W2,b2},
// shared/expert<j>/...), the names of the host implementation. Training noise of step n comes from
// Rng(noise_seed).stream(n), drawn on the host and uploaded. Each training step's routing sums and
// auxiliary losses stay on the backend until routing_log() reads them.
// Expert parallelism (a Communicator of P processes): this process holds experts [first, first + count)
// of E (expert_placement.hpp) and a copy of the router and the shared experts (registered as replicated:
// their gradients are this process's tokens' part); its tokens are a shard of the batch of every
// process's tokens in rank order (token_shard.hpp: capacity, priority, noise and the balancing losses of
// the whole batch). The kept slots' inputs go to the processes that hold their experts and the outputs
// come back (the all-to-all of expert_exchange), through host memory for now; combine_slots adds them.
// Every call is then collective, the routing log is read each step, and per-token routers only.
#include <armadillo>
#include <memory>
#include <string>
#include <vector>

#include "moe/backend/backend.hpp"
#include "moe/backend/backend_params.hpp"
#include "moe/core/rng.hpp"
#include "moe/core/state.hpp"
#include "moe/parallel/communicator.hpp"
#include "moe/sparse/comm_token_shard.hpp"
#include "moe/sparse/expert_placement.hpp"
#include "moe/sparse/backend_router.hpp"
#include "moe/sparse/layer_spec.hpp"
#include "moe/sparse/router_registry.hpp"
#include "moe/sparse/routing_log.hpp"

namespace moe {

// The backend a network with this layer runs on: --device and --precision (SparseLayerSpec).
std::unique_ptr<Backend> layer_backend(const SparseLayerSpec& spec);

class MoeLayer;
// Host copies changed since the last sync (a model file loaded, a host optimiser's step) go up to the
// backend: the network's parameters and the layer's state.
void upload_if_changed(BackendParams& params, MoeLayer& layer);

// Not re-entrant: even the const calls (evaluation passes) reuse the layer's tensors and plan, and
// end_step uses the plan of the last forward pass (a training step's forward, backward, then end_step).
class MoeLayer {
 public:
  MoeLayer(const SparseLayerSpec& spec, std::size_t experts, BackendParams& params, const std::string& prefix,
           Communicator* expert_parallel = nullptr);
  MoeLayer(const MoeLayer&) = delete;
  MoeLayer& operator=(const MoeLayer&) = delete;

  // Draws into the host copies, in the host layer's order: the router, each expert's W1 and W2, the
  // shared experts, then the noise seed. The caller uploads (BackendParams::from_host, then from_host()).
  void init(Rng& rng);
  // The selection bias of loss-free and sigmoid-topk (state, not trained): "<prefix>router/bias".
  void collect_state(ParamList& params);
  void to_host();    // the bias into its host copy
  void from_host();  // and back
  bool host_changed() const;  // the bias's host copy written since the last to_host / from_host
  // Noise seed, step and routing log (checkpoints), under the host layer's names.
  void visit_state(StateVisitor& v, const std::string& prefix);

  // Hash routing: each column's token id for the next forward pass.
  void set_token_ids(const std::vector<std::uint64_t>& ids);
  bool needs_token_ids() const { return router_entry(spec_.router).traits.needs_token_ids; }

  // X: D x T. Writes Y (D x T, reshaped). training: capacity, noise and random choices apply.
  void forward(const Tensor& X, bool training, Tensor& Y) const;
  // After forward(X, true, .): writes dX (residual included) and the layer's gradients from dY; adds each
  // weighted auxiliary loss times T to loss_sum (1 x 1). log: keep this step's routing for routing_log().
  void backward(const Tensor& X, const Tensor& dY, Tensor& dX, Tensor& loss_sum, bool log);
  // After the optimiser's step: the loss-free bias update, the next step's noise.
  void end_step();

  const RoutingLog& routing_log() const;
  // Expert parallelism: this process's seconds in collectives during the step just logged.
  void log_comm_seconds(double seconds) { log_.comm_seconds.push_back(seconds); }
  RoutingStats stats() const;  // the balance of the last forward pass
  arma::mat gate() const;      // E x T combine weight of each expert for each token of the last forward pass
  std::size_t experts() const { return E_; }  // of the layer, every process's together
  const ExpertPlacement& placement() const { return placement_; }
  // Of the last pass: the kept (token, expert) pairs of this process's tokens, and (expert parallelism)
  // the columns the experts held here ran on.
  std::size_t kept_assignments() const;
  double expert_tokens() const { return comm_ ? ex_.expert_tokens : double(kept_assignments()); }
  Communicator* communicator() const { return comm_; }
  const SparseLayerSpec& spec() const { return spec_; }
  // Sparse upcycling: every expert a copy of one FFN (host copies; the caller uploads).
  void copy_into_every_expert(const arma::mat& W1, const arma::mat& b1, const arma::mat& W2, const arma::mat& b2);

 private:
  void route_and_run(const Tensor& X, bool training, Tensor& Y) const;
  void forward_soft(const Tensor& X, Tensor& Y) const;
  void backward_soft(const Tensor& X, const Tensor& dY, Tensor& dX, bool log);
  void soft_masses(Tensor& importance, Tensor& load) const;
  RoutingStats stats_from_sums(const Tensor& sums) const;  // routing_counts' (3E + 2) sums (the batch's)
  void flush_log() const;  // the pending steps into log_
  void backward_pass(const Tensor& X, const Tensor& dY, Tensor& dX, Tensor& loss_sum, bool log);
  // Expert parallelism: the routed experts of plan_ through the all-to-all, forward and backward.
  void exchange_forward(const Tensor& X, Tensor& Y) const;
  void exchange_backward(const Tensor& dY, Tensor& dX);
  // M's columns (d x sum send) to the processes, send[q] to q; R (d x sum recv) what arrives.
  void exchange_columns(const Tensor& M, const std::vector<std::size_t>& send, const std::vector<std::size_t>& recv,
                        Tensor& R) const;
  std::string name(const std::string& what) const { return prefix_ + what; }

  SparseLayerSpec spec_;
  Backend& b_;
  Communicator* comm_ = nullptr;
  ExpertPlacement placement_;
  std::size_t E_local_ = 0, first_ = 0;  // the routed experts held here: [first_, first_ + E_local_)
  mutable std::shared_ptr<CommTokenShard> shard_;  // expert parallelism: this pass's tokens in the batch
  struct Exchange {
    std::vector<std::size_t> send_cols, recv_cols;  // P each: columns sent to / received from each process
    Tensor index;            // i64 A x 1: the token of each kept slot, in the plan's sorted order
    Tensor order, inverse;   // i64 n x 1: the arrived column of each expert-major column, and back
    bool in_order = true;    // order is the identity
    DevicePlan received;     // over the n arrived columns, expert-major, local expert ids, weight 1
    std::unique_ptr<OpCache> cache;
    Tensor inputs, arrived, sorted, sorted_out, outs;  // d x A (this process's slots) or d x n (arrived)
    Tensor douts, dsorted, dsorted_in, dinputs, unused;
    double expert_tokens = 0;  // columns the experts held here ran on
  };
  mutable Exchange ex_;
  BackendParams& params_;
  std::string prefix_;
  std::size_t D_, F_, E_, S_shared_;
  FfnActivation act_;
  bool soft_ = false;  // soft MoE: no router, slots (Phi) instead
  std::unique_ptr<BackendRouter> router_;  // its registry entry's make_on_backend; null for soft MoE
  // Parameters and gradients (the router's are its own): soft MoE's slots Phi (D x S), the routed bank,
  // each shared expert's W1 (F x D), b1, W2 (D x F), b2 at 4 j, 4 j + 1, ...
  Tensor Phi_, dPhi_;
  ExpertBank experts_, dexperts_;
  std::vector<Tensor> shared_, dshared_;
  std::uint64_t noise_seed_ = 0, noise_step_ = 0;
  // The pass's tensors (reshaped to the batch; storage reused). Mutable: evaluation passes are const.
  mutable DevicePlan plan_;
  mutable std::unique_ptr<OpCache> ffn_cache_;
  mutable Tensor L_, ids_;  // soft MoE's logits (S x T); hash routing's token ids (i64 T x 1)
  Tensor dL_, dw_, aux_value_;
  mutable std::vector<Tensor> shared_pre_, shared_act_;  // per shared expert: F x T
  Tensor dact_, dpre_;
  // Soft MoE: the constant plan of its slots (slot j to expert j / p), the E x S grouping of slots by
  // expert, and the pass's tensors.
  DevicePlan soft_plan_;
  Tensor group_;
  mutable Tensor dispatch_, combine_, slots_, outs_;
  Tensor dslots_, douts_, dcombine_, ddispatch_;
  // Per logged step not yet read: routing sums ((3E + 2) x 1) and the four unweighted auxiliary losses;
  // soft MoE: importance and load (E x 1 each).
  mutable std::vector<Tensor> pending_sums_, pending_soft_;
  mutable std::vector<std::vector<Tensor>> pending_aux_;
  mutable RoutingLog log_;
};

}  // namespace moe
