#include "moe/train/online_em.hpp"

#include <cmath>

#include "moe/core/error.hpp"
#include "moe/experts/linear_gaussian_expert.hpp"
#include "moe/train/trainer_registry.hpp"

namespace moe {

void OnlineOptions::validate() const {
  require(lambda0 > 0.0 && lambda0 <= 1.0, "--forgetting must be in (0, 1]");
  require(every >= 1, "the forgetting schedule needs a positive step");
  require(move >= 0.0 && move <= 1.0, "the forgetting schedule's move must be in [0, 1]");
  require(initial_inverse > 0.0, "the RLS initial scale must be positive");
}

OnlineHmeRls::OnlineHmeRls(HierarchicalMixture& model, arma::uword inputs, const OnlineOptions& options)
    : model_(model), options_(options), lambda_(options.lambda0) {
  options.validate();
  require(model.spec().expert == "linear-gaussian", "--trainer online-em needs linear-gaussian experts");
  model_.collect(params_);
  for (arma::uword g = 0; g < model.gates(); ++g) {
    const std::string p = "gate" + std::to_string(g) + "/";
    require(params_.find(p + "V") && params_.find(p + "c"), "--trainer online-em needs --gate linear (its RLS "
                                                            "updates the linear gates' V and c)");
    gate_params_.push_back({params_.find(p + "V")->value, params_.find(p + "c")->value});
  }
  for (arma::uword j = 0; j < model.experts(); ++j) {
    const std::string p = "expert" + std::to_string(j) + "/";
    const Param* s = params_.find(p + "log_var");
    expert_params_.push_back({params_.find(p + "W")->value, params_.find(p + "b")->value, s ? s->value : nullptr});
  }
  const arma::mat P0 = options.initial_inverse * arma::eye(inputs + 1, inputs + 1);
  gate_P_.assign(model.gates(), P0);
  expert_P_.assign(model.experts(), P0);
  expert_mass_.assign(model.experts(), 1.0);
}

bool OnlineHmeRls::rls(arma::mat& W, arma::mat& b, arma::mat& P, const arma::vec& xt, const arma::vec& err,
                       double weight) const {
  if (!(weight > 1e-12)) return false;
  const arma::vec Px = P * xt;
  const arma::vec k = Px / (lambda_ / weight + arma::dot(xt, Px));
  const arma::uword d = W.n_cols;
  W += err * k.subvec(0, d - 1).t();
  b += err * k(d);
  P = (P - k * Px.t()) / lambda_;
  P = 0.5 * (P + P.t());  // keep it symmetric against round-off
  return true;
}

void OnlineHmeRls::observe(const arma::vec& x, const arma::vec& y) {
  const arma::mat X = x, Y = y;
  const std::vector<arma::mat> h = model_.node_posteriors(X, Y);  // level l: b^l x 1
  const arma::vec xt = arma::join_cols(x, arma::vec{1.0});
  const arma::uword b = model_.branching();
  // Gates: targets are the centred log conditional posteriors of the children.
  for (arma::uword l = 0, g = 0; l < model_.depth(); ++l) {
    for (arma::uword i = 0; i < h[l].n_rows; ++i, ++g) {
      const double reach = h[l](i, 0);
      if (!(reach > 1e-12)) continue;
      // Floor 1e-3: a confident posterior would otherwise ask for a logit gap of ~27 in one RLS step and
      // saturate the gate (measured: one expert of four left alive on generated data).
      arma::vec target = arma::log(arma::clamp(h[l + 1].rows(i * b, i * b + b - 1).col(0) / reach, 1e-3, 1.0));
      target -= arma::mean(target);
      arma::mat& V = *gate_params_[g].V;
      arma::mat& c = *gate_params_[g].c;
      arma::vec logits = V * x + c.col(0);
      logits -= arma::mean(logits);
      rls(V, c, gate_P_[g], xt, target - logits, reach);
    }
  }
  // Experts: weighted RLS on the mean, forgotten weighted average for the variances.
  const arma::mat& leaf = h.back();
  for (arma::uword j = 0; j < model_.experts(); ++j) {
    arma::mat& W = *expert_params_[j].W;
    arma::mat& bias = *expert_params_[j].b;
    const double w = leaf(j, 0);
    const arma::vec r = y - (W * x + bias.col(0));
    if (!rls(W, bias, expert_P_[j], xt, r, w)) continue;
    if (arma::mat* log_var = expert_params_[j].log_var) {
      const double mass = lambda_ * expert_mass_[j] + w;
      const arma::vec var = (lambda_ * expert_mass_[j] * arma::exp(log_var->col(0)) + w * arma::square(r)) / mass;
      log_var->col(0) = arma::log(arma::clamp(var, std::exp(LinearGaussianExpert::log_variance_floor), arma::datum::inf));
      expert_mass_[j] = mass;
    }
  }
  if (++steps_ % options_.every == 0) lambda_ += options_.move * (1.0 - lambda_);
}

void OnlineHmeRls::epoch(const arma::mat& X, const arma::mat& Y, Rng& rng) {
  if (steps_ == 0) {
    // Start every expert's variances at the targets' variances: with unit variances and targets far
    // from the initial means, the first observations' posteriors are one-hot and the first expert to
    // adapt captures every later point (measured: one expert of 16 with all the mass).
    const arma::vec var = arma::var(Y, 1, 1);
    for (const ExpertParams& e : expert_params_)
      if (e.log_var) e.log_var->col(0) = arma::log(arma::clamp(var, 1e-12, arma::datum::inf));
  }
  const arma::uvec order = rng.permutation(X.n_cols);
  for (arma::uword n : order) observe(X.col(n), Y.col(n));
}

namespace {
const TrainerRegistration registered{{
    .name = "online-em",
    .help = "online EM for an hme of linear-gaussian experts: one observation at a time, recursive least squares "
            "with forgetting (Jordan & Jacobs 1994)",
    .flags = {"forgetting"},
}};
}  // namespace

}  // namespace moe
