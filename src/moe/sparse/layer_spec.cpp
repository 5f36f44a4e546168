#include "moe/sparse/layer_spec.hpp"

#include <cmath>
#include <cstdio>

#include "moe/core/error.hpp"
#include "moe/sparse/balanced_router.hpp"
#include "moe/sparse/expert_choice_router.hpp"
#include "moe/sparse/ffn_experts.hpp"
#include "moe/sparse/gshard_router.hpp"
#include "moe/sparse/hash_router.hpp"
#include "moe/sparse/kernels/cuda_sparse_ffn.hpp"
#include "moe/sparse/loss_free_router.hpp"
#include "moe/sparse/noisy_topk_router.hpp"
#include "moe/sparse/softmax_topk_router.hpp"
#include "moe/sparse/switch_router.hpp"

namespace moe {

namespace {
std::string exact(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}
bool has_logits(const std::string& r) { return r != "hash" && r != "soft"; }
}  // namespace

double SparseLayerSpec::init_scale() const {
  if (router_init_scale >= 0.0) return router_init_scale;
  return router == "noisy-topk" ? 0.0 : 1.0;
}

void SparseLayerSpec::validate(arma::uword experts) const {
  const bool known = router == "topk" || router == "noisy-topk" || router == "switch" || router == "gshard" ||
                     router == "hash" || router == "expert-choice" || router == "soft" || router == "balanced" ||
                     router == "loss-free";
  require(known, "unknown --router '" + router +
                     "' (expected topk, noisy-topk, switch, gshard, hash, expert-choice, soft, balanced or loss-free)");
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
    require(router != "soft", "--device cuda runs routed layers; soft MoE runs on the CPU only");
  }
  if (router == "topk" || router == "noisy-topk" || router == "loss-free")
    require(top_k >= 1 && top_k <= experts, "--top-k must be between 1 and --experts (got " + std::to_string(top_k) +
                                                " of " + std::to_string(experts) + ")");
  require(router != "gshard" || experts >= 2, "--router gshard needs at least 2 experts");
  require(std::isfinite(capacity_factor), "--capacity-factor must be a finite number");
  require(router != "soft" || (slots_per_expert >= 1 && slots_per_expert <= 65536),
          "--slots-per-expert must be between 1 and 65536 (got " + std::to_string(slots_per_expert) + ")");
  require(router != "expert-choice" || capacity_factor > 0.0 || top_k >= 1,
          "--router expert-choice takes c = --capacity-factor, or --top-k when that is <= 0: one must be positive");
  require(gshard_threshold > 0.0 && std::isfinite(gshard_threshold), "--gshard-threshold must be positive");
  require(bias_rate >= 0.0 && std::isfinite(bias_rate), "--bias-rate must be a finite number >= 0");
  require(std::isfinite(router_init_scale), "--router-init-scale must be finite");
  for (double w : {w_importance, w_load, switch_alpha, z_loss})
    require(w >= 0.0 && std::isfinite(w), "auxiliary loss weights must be finite and >= 0");
  require(w_load == 0.0 || router == "noisy-topk",
          "--w-load (the smooth load estimator) needs --router noisy-topk (got " + router + ")");
  require(has_logits(router) || (switch_alpha == 0.0 && z_loss == 0.0),
          "--switch-alpha and --z-loss need a router with logits (not " + router + ")");
  require(router != "soft" || w_importance == 0.0, "--w-importance needs a routed layer (soft MoE has no routing plan)");
  require(router != "hash" || w_importance == 0.0, "--w-importance cannot move hash routing (it has no parameters)");
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

void reject_unused_router_flags(const std::string& router, const std::vector<std::string>& given) {
  auto uses = [&](const std::string& flag) {
    if (flag == "top-k") return router == "topk" || router == "noisy-topk" || router == "loss-free" || router == "expert-choice";
    if (flag == "capacity-factor") return router != "balanced" && router != "soft";
    if (flag == "no-renormalize") return router == "topk" || router == "loss-free";
    if (flag == "slots-per-expert") return router == "soft";
    if (flag == "gshard-threshold") return router == "gshard";
    if (flag == "bias-rate") return router == "loss-free";
    return true;
  };
  for (const std::string& flag : given)
    require(uses(flag), "--" + flag + " does not apply to --router " + router);
}

std::unique_ptr<Router> make_router(const SparseLayerSpec& s, arma::uword inputs, arma::uword experts) {
  const double c = s.capacity_factor;
  if (s.router == "topk") return std::make_unique<SoftmaxTopKRouter>(inputs, experts, SoftmaxTopKOptions{s.top_k, s.renormalize, c});
  if (s.router == "noisy-topk") return std::make_unique<NoisyTopKRouter>(inputs, experts, NoisyTopKOptions{s.top_k, c});
  if (s.router == "switch") return std::make_unique<SwitchRouter>(inputs, experts, c);
  if (s.router == "gshard") return std::make_unique<GShardRouter>(inputs, experts, GShardOptions{s.gshard_threshold, c});
  if (s.router == "hash") return std::make_unique<HashRouter>(inputs, experts, HashOptions{0, c});
  if (s.router == "expert-choice")
    return std::make_unique<ExpertChoiceRouter>(inputs, experts, c > 0.0 ? c : double(s.top_k));
  if (s.router == "balanced") return std::make_unique<BalancedRouter>(inputs, experts);
  if (s.router == "loss-free")
    return std::make_unique<LossFreeRouter>(inputs, experts, LossFreeOptions{s.top_k, s.renormalize, s.bias_rate, c});
  fail("--router " + s.router + " is not a plan-producing router");
}

}  // namespace moe
