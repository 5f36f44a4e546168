#pragma once
// Hash routing (Roller et al. 2021): expert = fixed hash of the token id, mod E, weight 1; no router
// parameters and no gradient. The id is RouteContext::token_ids[t] (e.g. the vocabulary id of the
// token); without ids, the bit pattern of feature `feature` of the token (X(feature, t)) is hashed.
// The hash is splitmix64's finaliser: fixed across runs, machines and thread counts.
#include "moe/sparse/router.hpp"

namespace moe {

struct HashOptions {
  arma::uword feature = 0;       // hashed when no token ids are given
  double capacity_factor = 0.0;  // <= 0: dropless
};

class HashRouter final : public Router {
 public:
  HashRouter(arma::uword inputs, arma::uword experts, HashOptions options = {});
  std::string kind() const override { return "hash"; }
  arma::uword inputs() const override { return inputs_; }
  arma::uword experts() const override { return experts_; }
  arma::uword k() const override { return 1; }
  void init(Rng&, double) override {}
  void collect(ParamList&, const std::string&) override {}
  Routing route(const arma::mat& X, const RouteContext& context) const override;
  // No parameters; the plan does not depend on X smoothly: dL/dX = 0.
  arma::mat backward(const arma::mat& X, const Routing&, const RouterGrad&) override {
    return arma::mat(X.n_rows, X.n_cols, arma::fill::zeros);
  }
  static std::uint64_t hash(std::uint64_t id);

 private:
  arma::uword inputs_, experts_;
  HashOptions options_;
};

}  // namespace moe
