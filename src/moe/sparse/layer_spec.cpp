#include "moe/sparse/layer_spec.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "moe/core/error.hpp"
#include "moe/backend/backend_registry.hpp"
#include "moe/backend/ffn_activation.hpp"
#include "moe/sparse/router_registry.hpp"

namespace moe {

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
  check_backend(device, backend_precision());  // a registered device that runs here, one of its precisions
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

// The layer's fields as /model attributes, each declared once for writing and reading.
template <class Spec, class Visitor>
void visit_layer_fields(Spec& s, Visitor&& v) {
  v.text("sparse_router", s.router);
  v.count("sparse_top_k", s.top_k);
  v.number("sparse_capacity_factor", s.capacity_factor);
  v.flag("sparse_renormalize", s.renormalize);
  v.count("sparse_model_dim", s.model_dim);
  v.count("sparse_ff_dim", s.ff_dim);
  v.text("sparse_ffn_activation", s.ffn_activation);
  v.count("sparse_shared_experts", s.shared_experts);
  v.count("sparse_slots_per_expert", s.slots_per_expert);
  v.number("sparse_gshard_threshold", s.gshard_threshold);
  v.number("sparse_bias_rate", s.bias_rate);
  v.number("sparse_router_init_scale", s.router_init_scale);
  v.number("sparse_w_importance", s.w_importance);
  v.number("sparse_w_load", s.w_load);
  v.number("sparse_switch_alpha", s.switch_alpha);
  v.number("sparse_z_loss", s.z_loss);
}

void SparseLayerSpec::add_attributes(Attributes& a) const {
  struct {
    Attributes& a;
    void text(const char* k, const std::string& v) { a[k] = v; }
    void count(const char* k, arma::uword v) { a[k] = std::int64_t(v); }
    void number(const char* k, double v) { a[k] = v; }
    void flag(const char* k, bool v) { a[k] = std::int64_t(v ? 1 : 0); }
  } writer{a};
  visit_layer_fields(*this, writer);
}

void SparseLayerSpec::read_attributes(const Attributes& a) {
  struct {
    const Attributes& a;
    void text(const char* k, std::string& v) { v = text_attribute(a, k); }
    void count(const char* k, arma::uword& v) { v = arma::uword(count_attribute(a, k)); }
    void number(const char* k, double& v) { v = number_attribute(a, k); }
    void flag(const char* k, bool& v) { v = flag_attribute(a, k); }
  } reader{a};
  visit_layer_fields(*this, reader);
}

const std::vector<std::string>& sparse_layer_flags() {
  static const std::vector<std::string> flags{
      "router",         "top-k",          "capacity-factor", "no-renormalize", "d-model",          "d-ff",
      "ffn-activation", "shared-experts", "slots-per-expert", "gshard-threshold", "bias-rate", "router-init-scale",
      "w-importance",   "w-load",         "switch-alpha",    "z-loss",          "device",           "precision"};
  return flags;
}

bool SparseLayerSpec::soft() const { return !router_entry(router).traits.routed; }

}  // namespace moe
