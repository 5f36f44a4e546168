#include "moe/sparse/layer_in_model.hpp"

#include "moe/sparse/loss_free_router.hpp"

namespace moe {

void LayerInModel::collect_state(ParamList& params, const std::string& prefix) {
  collect(params, prefix);
  if (auto* lf = dynamic_cast<LossFreeRouter*>(layer_.router())) {
    dbias_.zeros(lf->bias().n_elem, 1);
    params.add(prefix + "router/bias", lf->bias_state(), dbias_);
  }
}

void LayerInModel::visit_state(StateVisitor& v, const std::string& prefix) {
  v.count(prefix + "noise_seed", noise_seed_);
  v.count(prefix + "step", step_);
  log_.visit_state(v, prefix + "log/");
}

}  // namespace moe
