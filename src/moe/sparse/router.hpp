#pragma once
// The interface of every router of the sparse MoE layer. A router maps tokens X (d x T, one token per
// column) to a RoutingPlan plus what its backward pass and the balancing losses need (Routing below).
// E experts, k slots per token.
#include <armadillo>
#include <cstdint>
#include <span>
#include <string>

#include "moe/core/params.hpp"
#include "moe/core/rng.hpp"
#include "moe/backend/routing_plan.hpp"
#include "moe/sparse/token_shard.hpp"

namespace moe {

struct RouteContext {
  Rng* rng = nullptr;      // noise and random routing draws (noisy top-k, GShard); one draw per call
  bool training = true;    // noise and random second experts only in training
  std::span<const std::uint64_t> token_ids;  // T ids for hash routing (e.g. vocabulary ids); may be empty
  const TokenShard* shard = nullptr;  // expert parallelism: these tokens are a shard of a larger batch
};

// The first token's column in the batch (0 for a whole batch).
inline arma::uword shard_offset(const RouteContext& context) {
  return context.shard ? arma::uword(context.shard->offset()) : 0;
}

// Places per expert for a router's capacity factor: expert_capacity of the whole batch in training, none
// (0, dropless) in evaluation, so that a token's routing does not depend on the batch it is evaluated with.
inline std::size_t training_capacity(const RouteContext& context, std::size_t tokens, std::size_t experts,
                                     std::size_t k, double factor) {
  return context.training ? expert_capacity(batch_tokens(context.shard, tokens), experts, k, factor) : 0;
}

// The plan of a per-token router (each token's choices do not depend on the other tokens): make_plan with
// training_capacity, and, for a shard of a batch, the other shards' claims ahead of these (collective).
RoutingPlan plan_routes(const RouteContext& context, std::size_t tokens, std::size_t experts, std::size_t k,
                        std::vector<std::int32_t> slot_expert, std::vector<double> slot_weight, double capacity_factor);

// Routers that choose over the whole batch (expert choice, balanced assignment) call this: throws
// moe::Error when the tokens are a shard of a larger batch.
void require_whole_batch(const RouteContext& context, const std::string& router);

// What one routing call produced. Matrices are empty where a router has no such quantity.
struct Routing {
  RoutingPlan plan;
  arma::mat logits;        // E x T clean router logits W X (z-loss, Switch loss, smooth load)
  arma::mat probs;         // E x T scores the weights come from: softmax over experts of the logits (sigmoid
                           // top-k: sigmoid of each logit)
  // Noisy top-k only: H = logits + noise % softplus(noise_logits).
  arma::mat noise_logits;  // E x T raw W_noise X
  arma::mat noise;         // E x T standard normal draws (zeros outside training)
  arma::mat noisy_logits;  // E x T H
  // How slot weights derive from probs (see softmax_weights.hpp): per slot t*k+s, the expert in the
  // normalising set of token t (-1: none), and whether weights are renormalised over that set.
  std::vector<std::int32_t> norm_expert;
  bool renormalized = false;
};

// Gradients flowing back into a router; an empty member means zero.
struct RouterGrad {
  arma::vec dweight;       // T*k: dL/d plan.slot_weight (from the layer's combine and the importance loss)
  arma::mat dlogits;       // E x T: dL/d Routing::logits (z-loss, Switch loss, smooth load)
  arma::mat dnoise_logits; // E x T: dL/d Routing::noise_logits (smooth load)
};

class Router {
 public:
  virtual ~Router() = default;
  virtual std::string kind() const = 0;
  virtual arma::uword inputs() const = 0;
  virtual arma::uword experts() const = 0;
  virtual arma::uword k() const = 0;  // slots per token (expert choice: a bound, see its header)
  virtual void init(Rng& rng, double scale) = 0;
  virtual void collect(ParamList& params, const std::string& prefix) = 0;
  // X: d x T. Throws moe::Error on a shape mismatch or non-finite logits.
  virtual Routing route(const arma::mat& X, const RouteContext& context) const = 0;
  // Adds dL/d(parameters) to the ParamList gradients and returns dL/dX (d x T). `routing` is what
  // route(X, ...) returned.
  virtual arma::mat backward(const arma::mat& X, const Routing& routing, const RouterGrad& grad) = 0;

  // State a router keeps beside its trained parameters and updates itself after each training step (the
  // loss-free bias). collect_state adds it to `params` under `prefix` with a zero gradient, so that it is
  // saved, loaded and checkpointed with the model; end_step updates it from the step's plan (with a
  // shard: the whole batch's, collective). Both do nothing for a stateless router.
  virtual void collect_state(ParamList& /*params*/, const std::string& /*prefix*/) {}
  virtual void end_step(const RoutingPlan& /*plan*/, const TokenShard* /*shard*/) {}
};

}  // namespace moe
