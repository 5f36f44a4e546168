#include "moe/sparse/layer_in_model.hpp"


namespace moe {

void LayerInModel::collect_state(ParamList& params, const std::string& prefix) {
  collect(params, prefix);
  if (Router* router = layer_.router()) router->collect_state(params, prefix + "router/");
}

void LayerInModel::visit_state(StateVisitor& v, const std::string& prefix) {
  v.count(prefix + "noise_seed", noise_seed_);
  v.count(prefix + "step", step_);
  log_.visit_state(v, prefix + "log/");
}

}  // namespace moe
