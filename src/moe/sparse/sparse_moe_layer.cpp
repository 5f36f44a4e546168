#include "moe/sparse/sparse_moe_layer.hpp"

#include <algorithm>
#include <cmath>

#include "moe/core/error.hpp"
#include "moe/core/math.hpp"
#include "moe/sparse/balance_losses.hpp"
#include "moe/sparse/comm_token_shard.hpp"
#include "moe/sparse/router_registry.hpp"
#include "moe/sparse/smooth_load_loss.hpp"

namespace moe {

namespace {

ExpertPlacement placement_of(Communicator* comm, arma::uword experts) {
  return comm ? ExpertPlacement(experts, std::size_t(comm->size())) : ExpertPlacement(std::max<arma::uword>(experts, 1), 1);
}

}  // namespace

SparseMoeLayer::SparseMoeLayer(const SparseLayerSpec& spec, arma::uword experts, Communicator* expert_parallel)
    : spec_(spec),
      comm_(expert_parallel),
      placement_(placement_of(expert_parallel, experts)),
      experts_(spec.model_dim, spec.ff_dim, comm_ ? placement_.count(std::size_t(comm_->rank())) : experts,
               parse_ffn_activation(spec.ffn_activation), comm_ ? placement_.first(std::size_t(comm_->rank())) : 0,
               experts) {
  spec_.validate(experts);
  const RouterTraits& traits = router_entry(spec_.router).traits;
  require(!comm_ || !traits.batch_wide_in_training,
          "expert parallelism needs a per-token router, not " + spec_.router + ", which routes over the whole batch");
  backend_.kernel = parse_routed_kernel(spec_.kernel);
  backend_.cuda = spec_.device == "cuda";
  backend_.cuda_precision = spec_.cuda_precision;
  if (spec_.soft()) {
    Phi_.zeros(spec_.model_dim, experts * spec_.slots_per_expert);
    dPhi_ = Phi_;
  } else {
    router_ = make_router(spec_, spec_.model_dim, experts);
  }
  if (spec_.shared_experts > 0)
    shared_ = std::make_unique<FfnExperts>(spec_.model_dim, spec_.ff_dim, spec_.shared_experts, experts_.activation());
}

void SparseMoeLayer::use_device_exchange(DeviceCommunicator* exchange) {
  require(!exchange || (comm_ && backend_.cuda && exchange->size() == comm_->size() && exchange->rank() == comm_->rank()),
          "sparse layer: a GPU exchange needs expert parallelism with --device cuda over the same ranks");
  backend_.device_exchange = exchange;
}

void SparseMoeLayer::init(Rng& rng) {
  if (router_) router_->init(rng, spec_.init_scale());
  else Phi_ = rng.normal_matrix(Phi_.n_rows, Phi_.n_cols, spec_.init_scale() / std::sqrt(double(Phi_.n_rows)));
  experts_.init(rng);
  if (shared_) shared_->init(rng);
}

void SparseMoeLayer::collect(ParamList& params, const std::string& prefix) {
  if (router_) router_->collect(params, prefix + "router/");
  else params.add(prefix + "router/Phi", Phi_, dPhi_, ParamKind::weight);
  experts_.collect(params, prefix);
  if (shared_) shared_->collect(params, prefix + "shared/");
}

void SparseMoeLayer::collect_replicated(ParamList& params, const std::string& prefix) {
  if (router_) router_->collect(params, prefix + "router/");
  else params.add(prefix + "router/Phi", Phi_, dPhi_, ParamKind::weight);
  if (shared_) shared_->collect(params, prefix + "shared/");
}

MoeForward SparseMoeLayer::forward(const arma::mat& X, const RouteContext& context) const {
  require(X.n_rows == spec_.model_dim, "sparse MoE layer: tokens have " + std::to_string(X.n_rows) +
                                           " features, expected d_model = " + std::to_string(spec_.model_dim));
  MoeForward fwd = spec_.soft() ? forward_soft(X) : forward_routed(X, context);
  add_shared(X, fwd);
  return fwd;
}

void SparseMoeLayer::add_shared(const arma::mat& X, MoeForward& fwd) const {
  if (!shared_) return;
  for (arma::uword j = 0; j < shared_->experts(); ++j) {
    arma::mat pre;
    fwd.shared_out.push_back(shared_->forward(j, X, &pre));
    fwd.shared_pre.push_back(std::move(pre));
    fwd.Y += fwd.shared_out.back();
  }
}

MoeForward SparseMoeLayer::forward_routed(const arma::mat& X, const RouteContext& context) const {
  MoeForward fwd;
  RouteContext ctx = context;
  if (comm_) {
    fwd.shard = std::make_shared<CommTokenShard>(*comm_, X.n_cols);
    ctx.shard = fwd.shard.get();
  }
  const TokenShard* shard = ctx.shard;
  fwd.routing = router_->route(X, ctx);
  const RoutingPlan& plan = fwd.routing.plan;
  if (comm_) {
    fwd.exchange = std::make_shared<ExpertExchangeState>();
    fwd.Y = exchange_forward(*comm_, placement_, backend_, plan, experts_, X, *fwd.exchange);
  } else {
    fwd.routed = std::make_shared<RoutedFfnState>();
    fwd.Y = routed_ffn_forward(backend_, plan, experts_, X, *fwd.routed);
  }
  // Auxiliary losses and their weighted gradient.
  auto add = [&](double w, const RouterLoss& l, double& value) {
    value = l.value;
    fwd.aux.total += w * l.value;
    accumulate(fwd.aux_grad, l.grad, w);
  };
  if (spec_.w_importance > 0) add(spec_.w_importance, importance_loss(plan, shard), fwd.aux.importance);
  if (spec_.w_load > 0) add(spec_.w_load, smooth_load_loss(fwd.routing, shard), fwd.aux.load);
  if (spec_.switch_alpha > 0) add(spec_.switch_alpha, switch_aux_loss(fwd.routing, shard), fwd.aux.switch_aux);
  if (spec_.z_loss > 0) add(spec_.z_loss, z_loss(fwd.routing, shard), fwd.aux.z);
  return fwd;
}

MoeForward SparseMoeLayer::forward_soft(const arma::mat& X) const {
  MoeForward fwd;
  const arma::uword E = experts(), p = spec_.slots_per_expert;
  fwd.logits = Phi_.t() * X;  // S x T, S = E p
  require(fwd.logits.is_finite(), "soft MoE: logits are not finite");
  fwd.dispatch = softmax_cols(fwd.logits.t()).t();  // each slot's row over the tokens
  fwd.combine = softmax_cols(fwd.logits);           // each token's column over the slots
  const arma::mat slots = X * fwd.dispatch.t();  // d x S
  fwd.inputs.resize(E);
  fwd.pre.resize(E);
  fwd.outputs.resize(E);
  fwd.Y = X;
  for (arma::uword e = 0; e < E; ++e) {
    fwd.inputs[e] = slots.cols(e * p, e * p + p - 1);
    fwd.outputs[e] = experts_.forward(e, fwd.inputs[e], &fwd.pre[e]);
    fwd.Y += fwd.outputs[e] * fwd.combine.rows(e * p, e * p + p - 1);
  }
  return fwd;
}

arma::mat SparseMoeLayer::backward(const arma::mat& X, const MoeForward& fwd, const arma::mat& dY) {
  require(dY.n_rows == X.n_rows && dY.n_cols == X.n_cols, "sparse MoE layer: dY has the wrong shape");
  arma::mat dX = spec_.soft() ? backward_soft(X, fwd, dY) : backward_routed(X, fwd, dY);
  for (std::size_t j = 0; j < fwd.shared_pre.size(); ++j) dX += shared_->backward(j, X, fwd.shared_pre[j], dY);
  return dX;
}

arma::mat SparseMoeLayer::backward_routed(const arma::mat& X, const MoeForward& fwd, const arma::mat& dY) {
  const RoutingPlan& plan = fwd.routing.plan;
  RouterGrad grad;
  arma::mat dX = fwd.exchange
                     ? exchange_backward(*comm_, placement_, backend_, plan, experts_, *fwd.exchange, dY, grad.dweight)
                     : routed_ffn_backward(backend_, plan, experts_, *fwd.routed, dY, grad.dweight);
  accumulate(grad, fwd.aux_grad, 1.0);
  dX += router_->backward(X, fwd.routing, grad);
  return dX;
}

arma::mat SparseMoeLayer::backward_soft(const arma::mat& X, const MoeForward& fwd, const arma::mat& dY) {
  const arma::uword E = experts(), p = spec_.slots_per_expert;
  const arma::mat& D = fwd.dispatch;
  const arma::mat& C = fwd.combine;
  arma::mat dC(C.n_rows, C.n_cols), dSlots(X.n_rows, E * p);
  for (arma::uword e = 0; e < E; ++e) {
    const arma::mat Ce = C.rows(e * p, e * p + p - 1);  // p x T
    dC.rows(e * p, e * p + p - 1) = fwd.outputs[e].t() * dY;
    const arma::mat dOut = dY * Ce.t();  // d x p
    dSlots.cols(e * p, e * p + p - 1) = experts_.backward(e, fwd.inputs[e], fwd.pre[e], dOut);
  }
  // Combine: column softmax. dL/dlogit(s, t) = C(s, t) (dC(s, t) - sum_r C(r, t) dC(r, t)).
  arma::mat dL = C % (dC.each_row() - arma::sum(C % dC, 0));
  // Dispatch: slots = X D^T, so dD = dSlots^T X (S x T); row softmax.
  const arma::mat dD = dSlots.t() * X;
  dL += D % (dD.each_col() - arma::sum(D % dD, 1));
  dPhi_ += X * dL.t();
  return dY + dSlots * D + Phi_ * dL;
}

void SparseMoeLayer::end_step(const MoeForward& fwd) {
  if (router_) router_->end_step(fwd.routing.plan, fwd.shard.get());
}

RoutingStats SparseMoeLayer::stats(const MoeForward& fwd) const {
  if (!spec_.soft()) return routing_stats(fwd.routing.plan, fwd.shard.get());
  const arma::uword E = experts(), p = spec_.slots_per_expert;
  arma::vec importance(E), load(E);
  for (arma::uword e = 0; e < E; ++e) {
    importance[e] = arma::accu(fwd.combine.rows(e * p, e * p + p - 1));
    load[e] = arma::accu(fwd.dispatch.rows(e * p, e * p + p - 1));
  }
  return routing_stats(importance, load, 0.0, 0.0);
}

arma::mat SparseMoeLayer::combine_weights(const MoeForward& fwd) const {
  const arma::uword E = experts();
  if (spec_.soft()) {
    const arma::uword p = spec_.slots_per_expert;
    arma::mat W(E, fwd.combine.n_cols);
    for (arma::uword e = 0; e < E; ++e) W.row(e) = arma::sum(fwd.combine.rows(e * p, e * p + p - 1), 0);
    return W;
  }
  const RoutingPlan& plan = fwd.routing.plan;
  arma::mat W(E, plan.tokens, arma::fill::zeros);
  for_each_kept_slot(plan, [&](std::size_t t, std::size_t slot, std::size_t e, std::size_t) {
    W(e, t) += plan.slot_weight[slot];
  });
  return W;
}

// Soft MoE has no Router object: the layer itself mixes the tokens into slots (forward_soft above).
namespace {
const RouterRegistration registered{{
    .name = "soft",
    .help = "Soft MoE (Puigcerver et al. 2023): each expert's --slots-per-expert slots take softmax-weighted "
            "mixtures of all tokens; no routing plan, nothing dropped",
    .traits = {.routed = false, .batch_wide_in_training = true, .batch_wide_in_evaluation = true, .has_logits = false},
    .flags = {"slots-per-expert"},
    .validate =
        [](const SparseLayerSpec& s, arma::uword) {
          require(s.slots_per_expert >= 1 && s.slots_per_expert <= 65536,
                  "--slots-per-expert must be between 1 and 65536 (got " + std::to_string(s.slots_per_expert) + ")");
        },
    .make = {},
}};
}  // namespace

}  // namespace moe
