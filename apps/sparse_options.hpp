#pragma once
// Flags of --model sparse (a network around one sparse MoE layer): flags -> SparseLayerSpec. No maths here.
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "cli_common.hpp"
#include "moe/sparse/layer_spec.hpp"
#include "moe/sparse/router_registry.hpp"

namespace moe::cli {

inline void add_sparse_model_options(CLI::App& app, SparseLayerSpec& s) {
  const auto uses = [](const std::string& flag) { return or_list(RouterRegistry::instance().reading(flag)); };
  const RouterRegistry& routers = RouterRegistry::instance();
  app.add_option("--router", s.router, "Sparse: the router (`--list routers` says what each does): " + routers.choices())
      ->capture_default_str()
      ->check(CLI::IsMember(routers.names()));
  app.add_option("--top-k", s.top_k, "Sparse: experts per token (" + uses("top-k") + "; expert-choice: the default "
                                     "capacity factor)")
      ->capture_default_str();
  app.add_option("--capacity-factor", s.capacity_factor, "Sparse: each expert takes at most ceil(c k T / E) slots "
                                                         "of a training batch of T tokens; the rest are dropped and "
                                                         "pass through the residual (<= 0: dropless; evaluation is "
                                                         "always dropless). Expert choice: tokens per expert "
                                                         "ceil(c T / E)")
      ->capture_default_str();
  app.add_flag("!--no-renormalize", s.renormalize, "Sparse (" + uses("no-renormalize") + "): weights are the raw "
                                                   "scores, not renormalised over the chosen experts");
  app.add_option("--d-model", s.model_dim, "Sparse: width of the token vectors the MoE layer works on")
      ->capture_default_str();
  app.add_option("--d-ff", s.ff_dim, "Sparse: hidden units of every FFN expert")->capture_default_str();
  app.add_option("--ffn-activation", s.ffn_activation, "Sparse: relu or gelu")->capture_default_str();
  app.add_option("--shared-experts", s.shared_experts, "Sparse: always-on FFN experts beside the routed ones")
      ->capture_default_str();
  app.add_option("--slots-per-expert", s.slots_per_expert, "Sparse (" + uses("slots-per-expert") + "): slots p of every expert")
      ->capture_default_str();
  app.add_option("--gshard-threshold", s.gshard_threshold, "Sparse (" + uses("gshard-threshold") + "): the second "
                                                           "expert is kept with probability min(1, w2 / threshold)")
      ->capture_default_str();
  app.add_option("--bias-rate", s.bias_rate, "Sparse (" + uses("bias-rate") + "): u in b_i += u sign(mean load - "
                                             "load_i) after every step")
      ->capture_default_str();
  app.add_option("--router-init-scale", s.router_init_scale, "Sparse: scale of the router's initial weights "
                                                             "(negative: 0 for noisy-topk, as Shazeer, else 1)")
      ->capture_default_str();
  app.add_option("--w-importance", s.w_importance, "Sparse: weight of CV(importance)^2")->capture_default_str();
  app.add_option("--w-load", s.w_load, "Sparse (" + uses("w-load") + "): weight of CV(smooth load)^2")->capture_default_str();
  app.add_option("--switch-alpha", s.switch_alpha, "Sparse: weight of the Switch auxiliary loss E sum f_e P_e "
                                                   "(the paper: 0.01)")
      ->capture_default_str();
  app.add_option("--device", s.device, "Sparse: the compute backend the network trains on (parameters, "
                                      "gradients and optimiser state stay there): cpu (the CUDA backend is not "
                                      "written yet)")
      ->capture_default_str();
  app.add_option("--precision", s.precision, "Sparse: what the backend computes in: double (the CPU's default, "
                                             "the oracle) or float (about twice as fast)");
  app.add_option("--z-loss", s.z_loss, "Sparse: weight of the router z-loss (ST-MoE: 0.001)")->capture_default_str();
}

// Router flags given (command line or --config) that the chosen router ignores are errors.
inline void reject_unused_sparse_flags(const CLI::App& app, const SparseLayerSpec& s,
                                      const std::vector<std::string>& command_line) {
  const RouterRegistry& routers = RouterRegistry::instance();
  routers.reject_unused(s.router, given_flags(app, routers.flags(), command_line), "--router");
}

}  // namespace moe::cli
