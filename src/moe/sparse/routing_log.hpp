#pragma once
// Per-step routing metrics of a training run, one entry per optimiser step (what /routing holds):
// balance of the batch (routing_stats.hpp) and the values of the auxiliary losses (unweighted).
#include <armadillo>
#include <vector>

#include "moe/core/state.hpp"
#include "moe/sparse/routing_stats.hpp"

namespace moe {

// Values of the auxiliary losses of one training step, unweighted, and their weighted sum.
struct AuxLosses {
  double importance = 0.0, load = 0.0, switch_aux = 0.0, z = 0.0;
  double total = 0.0;  // w_importance importance + w_load load + switch_alpha switch_aux + z_loss z
};

struct RoutingLog {
  std::vector<double> cv_importance, cv_load, max_mean_load, dropped_fraction, dropped_token_fraction;
  std::vector<double> importance_loss, load_loss, switch_loss, z_loss, aux_total;
  std::vector<arma::vec> importance, load;  // E each, per step
  // Expert parallelism, this rank's, per step: columns its experts ran on, seconds in collectives.
  std::vector<double> rank_load, comm_seconds;

  void add(const RoutingStats& s, const AuxLosses& aux) {
    cv_importance.push_back(s.cv_importance);
    cv_load.push_back(s.cv_load);
    max_mean_load.push_back(s.max_mean_load);
    dropped_fraction.push_back(s.dropped_fraction);
    dropped_token_fraction.push_back(s.dropped_token_fraction);
    importance_loss.push_back(aux.importance);
    load_loss.push_back(aux.load);
    switch_loss.push_back(aux.switch_aux);
    z_loss.push_back(aux.z);
    aux_total.push_back(aux.total);
    importance.push_back(s.importance);
    load.push_back(s.load);
  }
  std::size_t steps() const { return cv_importance.size(); }

  void visit_state(StateVisitor& v, const std::string& prefix) {
    v.reals(prefix + "cv_importance", cv_importance);
    v.reals(prefix + "cv_load", cv_load);
    v.reals(prefix + "max_mean_load", max_mean_load);
    v.reals(prefix + "dropped_fraction", dropped_fraction);
    v.reals(prefix + "dropped_token_fraction", dropped_token_fraction);
    v.reals(prefix + "importance_loss", importance_loss);
    v.reals(prefix + "load_loss", load_loss);
    v.reals(prefix + "switch_loss", switch_loss);
    v.reals(prefix + "z_loss", z_loss);
    v.reals(prefix + "aux_total", aux_total);
    v.columns(prefix + "importance", importance);
    v.columns(prefix + "load", load);
  }
};

}  // namespace moe
