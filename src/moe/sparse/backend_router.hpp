#pragma once
// A router of the sparse MoE layer on the compute backend (moe_layer.hpp), made by its registry entry
// (router_registry.hpp: make_on_backend) beside the router's host version in the same file. T tokens
// X (D x T), E experts, k slots per token.
//   route             plan.slot_expert and plan.slot_weight (k x T); a router that sizes the experts itself
//                     (expert choice, balanced assignment) also sets plan.capacity
//   logits/probs/lse  clean logits W X (E x T), their softmax and log-sum-exp (1 x T) for the Switch and
//                     z-losses; null for a router without them (hash)
//   backward          in two steps around the layer's losses on the logits: backward_weights turns
//                     dL/d slot weights into dL/d logits (plus the router's own loss: the smooth load loss
//                     of noisy top-k), the layer adds the Switch and z-losses' gradients, then
//                     backward_logits writes the router's parameter gradients and adds dL/dX
// Parameters are registered with the layer's BackendParams under "<prefix>router/" (copies on every
// process under expert parallelism); state updated after each step (the loss-free bias) is saved through
// collect_state.
#include <functional>
#include <memory>
#include <string>

#include "moe/backend/backend.hpp"
#include "moe/backend/backend_params.hpp"
#include "moe/core/params.hpp"
#include "moe/core/rng.hpp"
#include "moe/sparse/layer_spec.hpp"
#include "moe/sparse/token_shard.hpp"

namespace moe {

struct RouterSetup {
  const SparseLayerSpec& spec;
  std::size_t inputs = 0, experts = 0;
  BackendParams& params;
  std::string prefix;       // e.g. "moe/router/"
  bool replicated = false;  // expert parallelism: the router is a copy on every process
};

struct BackendRouteContext {
  bool training = true;
  Rng* noise = nullptr;                // this step's stream (noise, random second choices)
  const TokenShard* shard = nullptr;   // expert parallelism: these tokens are a shard of the batch
  const Tensor* token_ids = nullptr;   // hash routing: i64 T x 1
};

// Where a router's own auxiliary loss goes: its unweighted value into value (1 x 1, zeroed here first),
// then record(which, weight) (which: the routing log's slot, 1 for the load loss).
struct RouterLossSink {
  Tensor& value;
  std::function<void(std::size_t which, double weight)> record;
};

class BackendRouter {
 public:
  virtual ~BackendRouter() = default;
  virtual std::size_t k() const = 0;
  // Draws into the host copies, in the host router's order and scale.
  virtual void init(Rng& rng, double scale) = 0;
  virtual void route(const Tensor& X, const BackendRouteContext& context, DevicePlan& plan) = 0;
  virtual const Tensor* logits() const { return nullptr; }
  virtual const Tensor* probs() const { return nullptr; }
  virtual const Tensor* lse() const { return nullptr; }
  // dw (k x T): dL/d slot weights. dlogits (E x T) is written (zero where nothing flows).
  virtual void backward_weights(const DevicePlan& plan, const Tensor& dw, Tensor& dlogits, const RouterLossSink& sink,
                                const ShardSum* shard) = 0;
  // Writes the parameter gradients from dlogits and adds dL/dX to dX.
  virtual void backward_logits(const Tensor& X, const Tensor& dlogits, Tensor& dX) = 0;
  // State beside the parameters (the selection bias): saved with the model, updated after each step.
  virtual void collect_state(ParamList& /*params*/) {}
  virtual void end_step(const DevicePlan& /*plan*/, const ShardSum* /*shard*/) {}
  virtual void state_to_host() {}
  virtual void state_from_host() {}
  virtual bool state_changed() const { return false; }  // host copy written since the last sync
};

// The logits W X of a router with one linear layer (W: E x D, registered as "<prefix><name>"), their
// softmax and log-sum-exp; its backward (dW = dL X^T, dX += W^T dL).
class RouterLogits {
 public:
  RouterLogits(const RouterSetup& setup, const std::string& name);
  void init(Rng& rng, double scale);  // N(0, scale^2 / D), or zeros for scale 0
  void forward(const Tensor& X);      // L, P, lse
  void backward(const Tensor& X, const Tensor& dL, Tensor& dX);
  Backend& b;
  Tensor W, dW, L, P, lse;

 private:
  BackendParams& params_;
  std::string name_;
};

// The selection bias of loss-free balancing and sigmoid top-k (E x 1, not trained): b += rate
// sign(mean load - load_e) after each step, saved as "<prefix>bias".
class SelectionBias {
 public:
  SelectionBias(const RouterSetup& setup);
  void reset();  // the host copy to 0 (a fresh init; the caller uploads)
  void collect_state(ParamList& params);
  void end_step(const DevicePlan& plan, const ShardSum* shard);
  void to_host();
  void from_host();
  bool changed() const;
  Tensor bias;

 private:
  Backend& b_;
  std::string name_;
  double rate_;
  arma::mat host_, grad_, synced_;
};

}  // namespace moe
