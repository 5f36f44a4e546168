#pragma once
// The routers of the sparse MoE layer, one registry entry each (moe/core/registry.hpp). A router's file
// registers it beside its code with its name, one-line help, traits, the router flags it reads, its own
// checks and its factory; the layer, the models, the command line (choices, help, "does not apply",
// --list) and the conformance tests (tests/sparse/test_routers.cpp, tests/models/test_backend_sparse_net.cpp)
// read the entry.
#include <armadillo>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "moe/core/registry.hpp"
#include "moe/sparse/layer_spec.hpp"
#include "moe/sparse/backend_router.hpp"

namespace moe {

// What the layer and the models need to know about a router without naming it.
struct RouterTraits {
  // Has a routing plan. False only for soft MoE, which mixes tokens into slots and is computed by the
  // layer itself (no factory).
  bool routed = true;
  // A token's experts depend on the other tokens of the batch: in training (expert choice, balanced
  // assignment, soft MoE) and in evaluation (expert choice, soft MoE; balanced assignment evaluates
  // greedily, token by token). Such routers cannot be split over processes, and a language model may
  // not use one that mixes tokens in evaluation (a position would see the words after it).
  bool batch_wide_in_training = false;
  bool batch_wide_in_evaluation = false;
  // Routes by the tokens' ids (hash: BackendRouteContext::token_ids), which the model supplies.
  bool needs_token_ids = false;
  // Has clean logits W X (E x T) (BackendRouter::logits), so the Switch loss and the z-loss apply.
  bool has_logits = true;
  // The router's weights start at 0 unless --router-init-scale says otherwise (noisy top-k, as Shazeer).
  bool zero_init = false;
  // Keeps state beside its parameters that it updates after every training step (BackendRouter::
  // collect_state, end_step; the loss-free bias): saved with the model and in checkpoints.
  bool keeps_step_state = false;
};

struct RouterEntry {
  std::string name;  // the --router value, also saved in results files (sparse_router)
  std::string help;  // one line for --help and --list
  RouterTraits traits;
  // Router flags it reads (long names without dashes). A flag that other routers read, given with this
  // one, is refused as not applying (Registry::reject_unused).
  std::vector<std::string> flags;
  // Checks of the settings only this router has (e.g. k against E); throws moe::Error. May be empty.
  std::function<void(const SparseLayerSpec& spec, arma::uword experts)> validate;
  // Makes the router on the compute backend (backend_router.hpp) for the layer of moe_layer.hpp; empty for
  // a router that is not `routed`.
  std::function<std::unique_ptr<BackendRouter>(const RouterSetup& setup)> make;
};

using RouterRegistry = Registry<RouterEntry>;
using RouterRegistration = Registration<RouterEntry>;

// The entry named `name`; moe::Error "unknown --router ..." when none is.
const RouterEntry& router_entry(const std::string& name);

// Shared checks of registered routers' settings.
void require_top_k_within(const SparseLayerSpec& spec, arma::uword experts);

}  // namespace moe
