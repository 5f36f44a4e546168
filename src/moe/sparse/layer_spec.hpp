#pragma once
// Everything that defines a sparse MoE layer's structure and training losses: the router, its k and
// capacity, the FFN experts' sizes, shared experts, soft-MoE slots, and the weights of the auxiliary
// losses. Part of ModelSpec (field `sparse`), saved as attributes of /model with the prefix "sparse_".
#include <armadillo>

#include "moe/core/attributes.hpp"
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace moe {

struct SparseLayerSpec {
  std::string router = "topk";     // a registered router (moe/sparse/router_registry.hpp; --list routers)
  arma::uword top_k = 2;           // topk, noisy-topk, loss-free (switch and balanced: 1; gshard: 2)
  double capacity_factor = 0.0;    // places per expert = ceil(k T / E * c) in a training batch (evaluation
                                   // is dropless); <= 0: dropless. Expert choice: tokens per expert =
                                   // ceil(c T / E), with c = top_k when <= 0
  bool renormalize = true;         // topk, loss-free: weights renormalised over the chosen experts
  arma::uword model_dim = 64;      // d_model
  arma::uword ff_dim = 128;        // d_ff of every expert
  std::string ffn_activation = "relu";  // relu | gelu
  arma::uword shared_experts = 0;  // always-on experts beside the routed ones (weight 1 each)
  arma::uword slots_per_expert = 1;  // soft MoE: p slots per expert
  double gshard_threshold = 0.5;   // gshard: second expert kept with probability min(1, w2 / threshold)
  double bias_rate = 1e-3;         // loss-free: u of the bias update
  double router_init_scale = -1.0; // std scale of the router weights; < 0: 0 for noisy-topk (Shazeer's
                                   // zero start), 1 otherwise
  // Auxiliary losses, added to the task loss with these weights (0: off).
  double w_importance = 0.0;       // CV(importance)^2 (Shazeer 2017)
  double w_load = 0.0;             // CV(smooth load)^2, noisy-topk only (Shazeer 2017)
  double switch_alpha = 0.0;       // E sum f_e P_e (Switch; alpha = 0.01 in the paper)
  double z_loss = 0.0;             // mean logsumexp(logits)^2 (ST-MoE; c_z = 0.001)
  // Where and in what the layer (and --model sparse around it) computes: a compute backend of
  // moe/backend/backend_registry.hpp. Not part of the model: not saved.
  std::string device = "cpu";      // cpu (the CUDA backend is not written yet)
  std::string precision;           // cpu: double (the default: the oracle) | float; "": the device's default
  std::string backend_precision() const { return precision.empty() && device == "cpu" ? "double" : precision; }

  bool soft() const;  // the router has no routing plan (soft MoE: the layer mixes tokens into slots)
  double init_scale() const;
  void validate(arma::uword experts) const;  // throws moe::Error naming the impossible setting
  void add_attributes(Attributes& a) const;   // typed: counts int64, numbers float64, renormalize 0/1
  void read_attributes(const Attributes& a);
};

// The long flag names (without dashes) of every SparseLayerSpec field on the command line: the flags a
// model with a sparse layer reads (apps/sparse_options.hpp adds them; a test keeps the two equal).
const std::vector<std::string>& sparse_layer_flags();

}  // namespace moe
