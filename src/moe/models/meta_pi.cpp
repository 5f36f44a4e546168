#include "moe/models/meta_pi.hpp"

#include <cmath>

#include "moe/core/error.hpp"
#include "moe/core/math.hpp"
#include "moe/models/model_registry.hpp"

namespace moe {

namespace {
ModelSpec expert_mlp_spec(const ModelSpec& spec) {
  ModelSpec e = spec;
  e.kind = "mlp";
  e.freeze_experts = false;
  return e;
}
}  // namespace

MetaPi::MetaPi(const ModelSpec& spec) : spec_(spec), gate_(make_gate(spec.gate, spec.inputs, spec.experts)) {
  spec_.validate();
  require(spec_.kind == "meta-pi", "MetaPi needs a meta-pi spec (got '" + spec_.kind + "')");
  for (arma::uword i = 0; i < spec_.experts; ++i) {
    if (spec_.expert == "mlp") mlps_.push_back(std::make_unique<Mlp>(expert_mlp_spec(spec_)));
    else softmaxes_.push_back(std::make_unique<SoftmaxExpert>(spec_.inputs, spec_.outputs));
    scale_.emplace_back(spec_.inputs, 1, arma::fill::ones);
    shift_.emplace_back(spec_.inputs, 1, arma::fill::zeros);
  }
  dscale_.resize(spec_.experts);
  dshift_.resize(spec_.experts);
}

void MetaPi::init(Rng& rng) {
  gate_->init(rng, spec_.gate_init_scale);
  for (auto& e : mlps_) e->init(rng);
  for (auto& e : softmaxes_) e->init(rng);
  for (arma::uword i = 0; i < spec_.experts; ++i) {
    scale_[i].ones();
    shift_[i].zeros();
  }
}

void MetaPi::collect_experts(ParamList& params) {
  for (arma::uword i = 0; i < spec_.experts; ++i) {
    const std::string prefix = "expert" + std::to_string(i) + "/";
    if (spec_.expert == "mlp") {
      ParamList own;
      mlps_[i]->collect(own);
      for (const auto& p : own) params.add(prefix + p.name, *p.value, *p.grad, p.kind);
    } else {
      softmaxes_[i]->collect(params, prefix);
    }
  }
}

void MetaPi::collect(ParamList& params) {
  gate_->collect(params, "gate/");
  if (!spec_.freeze_experts) collect_experts(params);
}

void MetaPi::collect_state(ParamList& params) {
  gate_->collect(params, "gate/");
  collect_experts(params);
  for (arma::uword i = 0; i < spec_.experts; ++i) {
    const std::string prefix = "expert" + std::to_string(i) + "/input/";
    params.add(prefix + "scale", scale_[i], dscale_[i]);
    params.add(prefix + "shift", shift_[i], dshift_[i]);
  }
}

arma::mat MetaPi::expert_inputs(arma::uword i, const arma::mat& X) const {
  arma::mat Xi = X.each_col() % scale_[i].col(0);
  Xi.each_col() += shift_[i].col(0);
  return Xi;
}

arma::mat MetaPi::expert_output(arma::uword i, const arma::mat& X) const {
  const arma::mat Xi = expert_inputs(i, X);
  return spec_.expert == "mlp" ? mlps_[i]->predict(Xi).output : softmaxes_[i]->predict(Xi);
}

Prediction MetaPi::predict(const arma::mat& X) const {
  Prediction p;
  p.gate = gate_->probabilities(X);
  p.output.zeros(spec_.outputs, X.n_cols);
  for (arma::uword i = 0; i < spec_.experts; ++i) {
    arma::mat F = expert_output(i, X);
    F.each_row() %= p.gate.row(i);
    p.output += F;
  }
  return p;
}

arma::rowvec MetaPi::pointwise_loss(const arma::mat& X, const arma::mat& Y) const {
  return 0.5 * arma::sum(arma::square(Y - predict(X).output), 0);
}

double MetaPi::loss(const arma::mat& X, const arma::mat& Y, bool accumulate_grad) {
  const arma::mat G = gate_->probabilities(X);
  std::vector<arma::mat> F(spec_.experts);
  arma::mat out(spec_.outputs, X.n_cols, arma::fill::zeros);
  for (arma::uword i = 0; i < spec_.experts; ++i) {
    F[i] = expert_output(i, X);
    out += F[i].each_row() % G.row(i);
  }
  const double n = double(X.n_cols);
  const arma::mat R = out - Y;  // m x N
  const double value = 0.5 * arma::accu(arma::square(R)) / n;
  if (!accumulate_grad) return value;
  // Gate: dL/dg_i = f_i . R / N, then through the softmax: dz = g % (dg - sum_j g_j dg_j).
  arma::mat dG(spec_.experts, X.n_cols);
  for (arma::uword i = 0; i < spec_.experts; ++i) dG.row(i) = arma::sum(F[i] % R, 0) / n;
  arma::mat dZ = dG.each_row() - arma::sum(G % dG, 0);
  dZ %= G;
  gate_->accumulate_grad(X, dZ);
  if (spec_.freeze_experts) return value;
  // Experts: dL/df_i = g_i R / N.
  for (arma::uword i = 0; i < spec_.experts; ++i) {
    arma::mat D = R.each_row() % G.row(i);
    D /= n;
    const arma::mat Xi = expert_inputs(i, X);
    if (spec_.expert == "mlp") {
      mlps_[i]->accumulate_output_grad(Xi, D);
    } else {
      // The softmax expert's gradient of -sum_c t_c log s_c is linear in the soft targets t, with
      // dlogits = s sum_c t_c - t; t = -s % D gives s % (D - sum_c s_c D_c) = d(sum_c D_c s_c)/dlogits.
      softmaxes_[i]->accumulate_grad(Xi, -(F[i] % D), arma::rowvec(X.n_cols, arma::fill::ones));
    }
  }
  return value;
}

arma::mat MetaPi::posterior(const arma::mat& X, const arma::mat& Y) const {
  arma::mat L = gate_->log_probabilities(X);
  for (arma::uword i = 0; i < spec_.experts; ++i)
    L.row(i) -= 0.5 * arma::sum(arma::square(Y - expert_output(i, X)), 0);
  return softmax_cols(L);
}

void MetaPi::set_expert(arma::uword i, Model& trained, const arma::vec& input_scale, const arma::vec& input_shift) {
  require(i < spec_.experts, "meta-pi: expert " + std::to_string(i) + " out of range");
  require(input_scale.n_elem == spec_.inputs && input_shift.n_elem == spec_.inputs,
          "meta-pi: expert input map has the wrong length");
  ParamList source, target;
  trained.collect_state(source);
  if (spec_.expert == "mlp") mlps_[i]->collect(target);
  else softmaxes_[i]->collect(target, "");
  require(source.size() == target.size(), "meta-pi: expert " + std::to_string(i) + " has " +
                                              std::to_string(source.size()) + " parameter matrices, expected " +
                                              std::to_string(target.size()));
  for (const auto& t : target) {
    const Param* s = source.find(t.name);
    require(s && s->value->n_rows == t.value->n_rows && s->value->n_cols == t.value->n_cols,
            "meta-pi: expert " + std::to_string(i) + " has no parameter '" + t.name + "' of shape " +
                std::to_string(t.value->n_rows) + "x" + std::to_string(t.value->n_cols));
    *t.value = *s->value;
  }
  scale_[i] = input_scale;
  shift_[i] = input_shift;
}

namespace {
const ModelRegistration registered{{
    .name = "meta-pi",
    .help = "meta-pi network (Hampshire & Waibel 1992): a gate blends the outputs of K experts (mlp or softmax, "
            "trained here or loaded with --expert-models), squared error",
    .flags = {"experts", "expert", "expert-models", "freeze-experts", "gate", "gate-init-scale", "hidden", "activation",
              "mlp-output"},
    .language_model = false,
    .validate =
        [](const ModelSpec& s) {
          require(s.experts >= 1, "--experts must be at least 1 (got " + std::to_string(s.experts) + ")");
          require(s.expert == "mlp" || s.expert == "softmax",
                  "meta-pi experts are 'mlp' or 'softmax' (got --expert " + s.expert + ")");
          require(s.task == Task::classification || s.expert == "mlp", "softmax experts need --task classification");
          require(s.gate_init_scale >= 0.0 && std::isfinite(s.gate_init_scale),
                  "--gate-init-scale must be a finite number >= 0");
          if (s.expert == "mlp") s.validate_mlp();
        },
    .expert_count = [](const ModelSpec& s) { return s.experts; },
    .state_values =
        [](const ModelSpec& s) {  // gate V, then per expert an MLP's W1 and W2 or a softmax's W
          const double d = double(s.inputs), m = double(s.outputs), K = double(s.experts), h = double(s.hidden);
          return K * d + K * (s.expert == "mlp" ? h * d + m * h : m * d);
        },
    .make = [](const ModelSpec& s) -> std::unique_ptr<Model> { return std::make_unique<MetaPi>(s); },
}};
}  // namespace

}  // namespace moe
