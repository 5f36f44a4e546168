#include "moe/sparse/layer_spec.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "moe/core/error.hpp"
#include "moe/sparse/ffn_experts.hpp"
#include "moe/sparse/kernels/cuda_sparse_ffn.hpp"
#include "moe/sparse/router_registry.hpp"

namespace moe {

namespace {
std::string exact(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
}  // namespace

double SparseLayerSpec::init_scale() const {
  if (router_init_scale >= 0.0) return router_init_scale;
  return router_entry(router).traits.zero_init ? 0.0 : 1.0;
}

void SparseLayerSpec::validate(arma::uword experts) const {
  const RouterEntry& entry = router_entry(router);  // unknown --router: the registry's one-line error
  require(experts >= 1 && experts <= 4096, "--experts must be between 1 and 4096 (got " + std::to_string(experts) + ")");
  require(model_dim >= 1 && model_dim <= 65536 && ff_dim >= 1 && ff_dim <= 65536,
          "--d-model and --d-ff must be between 1 and 65536");
  require(shared_experts <= 64, "--shared-experts must be at most 64 (got " + std::to_string(shared_experts) + ")");
  parse_ffn_activation(ffn_activation);
  require(kernel == "fast" || kernel == "reference", "unknown --sparse-kernel '" + kernel + "' (expected fast or reference)");
  require(device == "cpu" || device == "cuda", "unknown --device '" + device + "' (expected cpu or cuda)");
  require(cuda_precision == "float" || cuda_precision == "tf32" || cuda_precision == "bf16",
          "unknown --cuda-precision '" + cuda_precision + "' (expected float, tf32 or bf16)");
  if (device == "cuda") {
    require(kernels::cuda_built(),
            "--device cuda: this build has no CUDA backend (configure with -DMOE_CUDA=ON on a machine with the CUDA "
            "toolkit)");
    require(kernel == "fast", "--sparse-kernel reference runs on the CPU only (drop it or --device cuda)");
    require(entry.traits.routed, "--device cuda runs routed layers; --router " + router + " runs on the CPU only");
  }
  require(std::isfinite(capacity_factor), "--capacity-factor must be a finite number");
  if (entry.validate) entry.validate(*this, experts);
  require(gshard_threshold > 0.0 && std::isfinite(gshard_threshold), "--gshard-threshold must be positive");
  require(bias_rate >= 0.0 && std::isfinite(bias_rate), "--bias-rate must be a finite number >= 0");
  require(std::isfinite(router_init_scale), "--router-init-scale must be finite");
  for (double w : {w_importance, w_load, switch_alpha, z_loss})
    require(w >= 0.0 && std::isfinite(w), "auxiliary loss weights must be finite and >= 0");
  require(w_load == 0.0 || std::find(entry.flags.begin(), entry.flags.end(), "w-load") != entry.flags.end(),
          "--w-load (the smooth load estimator) needs --router noisy-topk (got " + router + ")");
  require(entry.traits.has_logits || (switch_alpha == 0.0 && z_loss == 0.0),
          "--switch-alpha and --z-loss need a router with logits (not " + router + ")");
  require(entry.traits.routed || w_importance == 0.0,
          "--w-importance needs a routed layer (--router " + router + " has no routing plan)");
  require(!entry.traits.routed || entry.traits.has_logits || w_importance == 0.0,
          "--w-importance cannot move --router " + router + " (it has no parameters)");
}

void SparseLayerSpec::add_attributes(std::map<std::string, std::string>& a) const {
  a["sparse_router"] = router;
  a["sparse_top_k"] = std::to_string(top_k);
  a["sparse_capacity_factor"] = exact(capacity_factor);
  a["sparse_renormalize"] = renormalize ? "true" : "false";
  a["sparse_model_dim"] = std::to_string(model_dim);
  a["sparse_ff_dim"] = std::to_string(ff_dim);
  a["sparse_ffn_activation"] = ffn_activation;
  a["sparse_shared_experts"] = std::to_string(shared_experts);
  a["sparse_slots_per_expert"] = std::to_string(slots_per_expert);
  a["sparse_gshard_threshold"] = exact(gshard_threshold);
  a["sparse_bias_rate"] = exact(bias_rate);
  a["sparse_router_init_scale"] = exact(router_init_scale);
  a["sparse_w_importance"] = exact(w_importance);
  a["sparse_w_load"] = exact(w_load);
  a["sparse_switch_alpha"] = exact(switch_alpha);
  a["sparse_z_loss"] = exact(z_loss);
}

void SparseLayerSpec::read_attributes(const std::map<std::string, std::string>& a) {
  auto get = [&](const std::string& key) {
    const auto it = a.find("sparse_" + key);
    require(it != a.end(), "model attribute 'sparse_" + key + "' is missing");
    return it->second;
  };
  auto count = [&](const std::string& key) {
    try {
      return arma::uword(std::stoull(get(key)));
    } catch (const std::logic_error&) {
      fail("model attribute 'sparse_" + key + "' is not a count: '" + get(key) + "'");
    }
  };
  auto number = [&](const std::string& key) {
    try {
      return std::stod(get(key));
    } catch (const std::logic_error&) {
      fail("model attribute 'sparse_" + key + "' is not a number: '" + get(key) + "'");
    }
  };
  router = get("router");
  top_k = count("top_k");
  capacity_factor = number("capacity_factor");
  renormalize = get("renormalize") == "true";
  model_dim = count("model_dim");
  ff_dim = count("ff_dim");
  ffn_activation = get("ffn_activation");
  shared_experts = count("shared_experts");
  slots_per_expert = count("slots_per_expert");
  gshard_threshold = number("gshard_threshold");
  bias_rate = number("bias_rate");
  router_init_scale = number("router_init_scale");
  w_importance = number("w_importance");
  w_load = number("w_load");
  switch_alpha = number("switch_alpha");
  z_loss = number("z_loss");
}

const std::vector<std::string>& sparse_layer_flags() {
  static const std::vector<std::string> flags{
      "router",         "top-k",          "capacity-factor", "no-renormalize", "d-model",          "d-ff",
      "ffn-activation", "shared-experts", "slots-per-expert", "gshard-threshold", "bias-rate", "router-init-scale",
      "w-importance",   "w-load",         "switch-alpha",    "z-loss",          "sparse-kernel",    "device",
      "cuda-precision"};
  return flags;
}

bool SparseLayerSpec::soft() const { return !router_entry(router).traits.routed; }

}  // namespace moe
