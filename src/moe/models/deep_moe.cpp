#include "moe/models/deep_moe.hpp"

#include <cmath>
#include <cstdio>

#include "moe/core/math.hpp"
#include "moe/core/error.hpp"
#include "moe/models/model_registry.hpp"

namespace moe {

DeepMoe::DeepMoe(const ModelSpec& spec)
    : spec_(spec),
      V_(spec.outputs, spec.expert_hidden, arma::fill::zeros),
      c_(spec.outputs, 1, arma::fill::zeros) {
  spec_.validate();
  arma::uword inputs = spec.inputs;
  for (arma::uword k : spec.layer_experts) {
    layers_.emplace_back(inputs, spec.expert_hidden, k, spec.gate_hidden);
    balance_.emplace_back(k, spec.balance_margin);
    inputs = spec.expert_hidden;
  }
  balancing_ = spec.balance_epochs > 0;
}

void DeepMoe::init(Rng& rng) {
  for (auto& layer : layers_) layer.init(rng);
  V_ = rng.normal_matrix(V_.n_rows, V_.n_cols, 1.0 / std::sqrt(double(spec_.expert_hidden)));
  c_.zeros();
  for (std::size_t l = 0; l < layers_.size(); ++l) balance_[l] = GateBalance(layers_[l].experts(), spec_.balance_margin);
  balancing_ = spec_.balance_epochs > 0;
}

void DeepMoe::collect(ParamList& params) {
  for (std::size_t l = 0; l < layers_.size(); ++l) layers_[l].collect(params, "layer" + std::to_string(l + 1) + "/");
  params.add("output/W", V_, dV_, ParamKind::weight);
  params.add("output/b", c_, dc_);
}

DeepMoe::Pass DeepMoe::forward(const arma::mat& X, std::vector<GateBalance>* balance) const {
  Pass p;
  p.layers.reserve(layers_.size());
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const arma::mat& in = l == 0 ? X : p.layers.back().output;
    p.layers.push_back(layers_[l].forward(in, balance ? &(*balance)[l] : nullptr));
  }
  p.logits = V_ * p.layers.back().output;
  p.logits.each_col() += c_.col(0);
  return p;
}

double DeepMoe::loss(const arma::mat& X, const arma::mat& Y, bool accumulate_grad) {
  const Pass p = forward(X, accumulate_grad && balancing_ ? &balance_ : nullptr);
  const double n = double(X.n_cols);
  const arma::mat log_prob = log_softmax_cols(p.logits);
  const double value = -arma::accu(Y % log_prob) / n;
  if (!accumulate_grad) return value;
  // d(mean cross-entropy)/d(logits) = (softmax * sum_c y_c - y) / N
  const arma::mat prob = arma::exp(log_prob);
  arma::mat dO = prob.each_row() % arma::sum(Y, 0) - Y;
  dO /= n;
  dV_ += dO * p.layers.back().output.t();
  dc_ += arma::sum(dO, 1);
  arma::mat dZ = V_.t() * dO;  // H x N
  for (std::size_t l = layers_.size(); l-- > 0;) {
    const arma::mat& in = l == 0 ? X : p.layers[l - 1].output;
    dZ = layers_[l].backward(in, p.layers[l], dZ, l > 0);
  }
  return value;
}

arma::rowvec DeepMoe::pointwise_loss(const arma::mat& X, const arma::mat& Y) const {
  return -arma::sum(Y % log_softmax_cols(forward(X, nullptr).logits), 0);
}

Prediction DeepMoe::predict(const arma::mat& X) const {
  Pass p = forward(X, nullptr);
  return {softmax_cols(p.logits), std::move(p.layers.front().gate)};
}

std::vector<arma::mat> DeepMoe::layer_gates(const arma::mat& X) const {
  Pass p = forward(X, nullptr);
  std::vector<arma::mat> out;
  for (auto& c : p.layers) out.push_back(std::move(c.gate));
  return out;
}

void DeepMoe::end_epoch(std::size_t epoch) {
  if (epoch >= spec_.balance_epochs) balancing_ = false;
}

void DeepMoe::visit_state(StateVisitor& v, const std::string& prefix) {
  v.flag(prefix + "balancing", balancing_);
  for (std::size_t l = 0; l < balance_.size(); ++l) {
    const std::string name = prefix + "balance" + std::to_string(l + 1) + "/";
    v.matrix(name + "sums", balance_[l].sums);
    std::uint64_t blocked = balance_[l].blocked;
    v.count(name + "blocked", blocked);
    balance_[l].blocked = arma::uword(blocked);
  }
}

namespace {
const ModelRegistration registered{{
    .name = "deep",
    .help = "deep mixture of experts (Eigen, Ranzato & Sutskever 2013): stacked dense mixture layers of linear-ReLU "
            "experts with MLP gates, then a softmax classifier",
    .flags = {"layer-experts", "expert-hidden", "gate-hidden", "balance-margin", "balance-epochs"},
    .language_model = false,
    .validate =
        [](const ModelSpec& s) {
          require(s.task == Task::classification,
                  "--model deep ends in a softmax classifier: it needs --task classification");
          require(!s.layer_experts.empty() && s.layer_experts.size() <= 8,
                  "--layer-experts lists the experts of each mixture layer: 1 to 8 layers (got " +
                      std::to_string(s.layer_experts.size()) + ")");
          for (arma::uword k : s.layer_experts)
            require(k >= 1 && k <= 1024, "--layer-experts: every layer needs 1 to 1024 experts (got " +
                                             count_list(s.layer_experts) + ")");
          require(s.expert_hidden >= 1, "--expert-hidden must be at least 1 (got " + std::to_string(s.expert_hidden) + ")");
          require(s.gate_hidden >= 1, "--gate-hidden must be at least 1 (got " + std::to_string(s.gate_hidden) + ")");
          char margin[32];
          std::snprintf(margin, sizeof margin, "%.17g", s.balance_margin);
          require(s.balance_margin >= 0.0 && std::isfinite(s.balance_margin),
                  "--balance-margin must be a finite number >= 0 (got " + std::string(margin) + ")");
          require(!s.hard, "--hard is not supported by --model deep (its mixing is dense)");
        },
    .expert_count = [](const ModelSpec& s) { return s.layer_experts.empty() ? arma::uword(0) : s.layer_experts.front(); },
    .state_values =
        [](const ModelSpec& s) {  // the classifier V; each layer: gate W1, W2, experts W
          const double eh = double(s.expert_hidden), gh = double(s.gate_hidden);
          double total = double(s.outputs) * eh, width = double(s.inputs);
          for (arma::uword k : s.layer_experts) {
            total += gh * width + double(k) * gh + double(k) * eh * width;
            width = eh;
          }
          return total;
        },
    .make = [](const ModelSpec& s) -> std::unique_ptr<Model> { return std::make_unique<DeepMoe>(s); },
}};
}  // namespace

}  // namespace moe
