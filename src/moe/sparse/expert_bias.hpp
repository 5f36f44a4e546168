#pragma once
// The per-expert selection bias of auxiliary-loss-free balancing (Wang et al. 2024; docs/methods.md):
// a router chooses its experts on score_i + b_i while the weights use the scores alone, and after every
// training step b_i += u * sign(mean load - load_i), load_i = the slots routed to expert i (before
// capacity drops). Shared by the loss-free and the sigmoid top-k routers. The bias is state, not a trained
// parameter: it travels with the model (collect) with a zero gradient, which no optimiser moves.
#include <armadillo>
#include <string>

#include "moe/core/params.hpp"
#include "moe/backend/routing_plan.hpp"
#include "moe/sparse/token_shard.hpp"

namespace moe {

class ExpertBias {
 public:
  ExpertBias(arma::uword experts, double rate) : b_(experts, arma::fill::zeros), db_(experts, 1, arma::fill::zeros), rate_(rate) {}
  const arma::vec& values() const { return b_; }
  double rate() const { return rate_; }
  void reset() { b_.zeros(); }
  void set(const arma::vec& b, const std::string& router);  // one finite value per expert, else moe::Error
  // scores (E x T) + b in every column: what the selection compares.
  arma::mat biased(const arma::mat& scores) const { return scores.each_col() + b_; }
  // The update above; with a shard, the load of the whole batch (collective).
  void update(const RoutingPlan& plan, const TokenShard* shard, const std::string& router);
  void collect(ParamList& params, const std::string& name) { params.add(name, b_, db_); }

 private:
  arma::vec b_;   // E
  arma::mat db_;  // E x 1, always zero
  double rate_;   // u
};

}  // namespace moe
