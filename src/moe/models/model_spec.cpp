#include "moe/models/model_spec.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "moe/core/error.hpp"
#include "moe/data/spec.hpp"
#include "moe/experts/expert_registry.hpp"
#include "moe/gates/gate_registry.hpp"
#include "moe/models/model_registry.hpp"

namespace moe {

std::string to_string(Task task) {
  return task == Task::classification ? "classification" : task == Task::lm ? "lm" : "regression";
}

Task parse_task(const std::string& name) {
  if (name == "classification") return Task::classification;
  if (name == "regression") return Task::regression;
  if (name == "lm") return Task::lm;
  fail("unknown task '" + name + "' (expected classification, regression or lm)");
}

namespace {
std::string exact(double v) {  // round-trips through std::stod
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

std::string count_list(const std::vector<arma::uword>& v) {  // "4,4"
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(v[i]);
  }
  return out;
}

std::map<std::string, std::string> ModelSpec::to_attributes() const {
  std::map<std::string, std::string> a{{"kind", kind},
          {"task", to_string(task)},
          {"inputs", std::to_string(inputs)},
          {"outputs", std::to_string(outputs)},
          {"experts", std::to_string(experts)},
          {"expert", expert},
          {"learn_variance", learn_variance ? "true" : "false"},
          {"gate_init_scale", exact(gate_init_scale)},
          {"hard", hard ? "true" : "false"},
          {"depth", std::to_string(depth)},
          {"branching", std::to_string(branching)},
          {"hidden", std::to_string(hidden)},
          {"activation", activation},
          {"output", output}};
  if (kind == "meta-pi") a["freeze_experts"] = freeze_experts ? "true" : "false";
  if (kind == "lm") add_lm_attributes(a);
  if (kind == "sparse") sparse.add_attributes(a);
  if (kind == "deep") {
    a["layer_experts"] = count_list(layer_experts);
    a["expert_hidden"] = std::to_string(expert_hidden);
    a["gate_hidden"] = std::to_string(gate_hidden);
    a["balance_margin"] = exact(balance_margin);
    a["balance_epochs"] = std::to_string(balance_epochs);
  }
  a["gate"] = gate;
  return a;
}

ModelSpec ModelSpec::from_attributes(const std::map<std::string, std::string>& a) {
  auto get = [&](const std::string& key) {
    auto it = a.find(key);
    require(it != a.end(), "model attribute '" + key + "' is missing");
    return it->second;
  };
  auto count = [&](const std::string& key) {
    try {
      return arma::uword(std::stoull(get(key)));
    } catch (const std::logic_error&) {
      fail("model attribute '" + key + "' is not a count: '" + get(key) + "'");
    }
  };
  ModelSpec s;
  s.kind = get("kind");
  s.task = parse_task(get("task"));
  s.inputs = count("inputs");
  s.outputs = count("outputs");
  s.experts = count("experts");
  s.expert = get("expert");
  s.learn_variance = get("learn_variance") == "true";
  s.gate_init_scale = std::stod(get("gate_init_scale"));
  s.hard = a.count("hard") && a.at("hard") == "true";  // files written before hard MoE: soft
  s.depth = count("depth");
  s.branching = count("branching");
  s.hidden = count("hidden");
  s.activation = get("activation");
  s.output = get("output");
  if (s.kind == "meta-pi") s.freeze_experts = get("freeze_experts") == "true";
  if (s.kind == "lm") s.read_lm_attributes(a);
  if (s.kind == "sparse") s.sparse.read_attributes(a);
  if (s.kind == "deep") {
    s.layer_experts.clear();
    for (const std::string& item : split_list(get("layer_experts"))) {
      try {
        s.layer_experts.push_back(arma::uword(std::stoull(item)));
      } catch (const std::logic_error&) {
        fail("model attribute 'layer_experts' is not a list of counts: '" + get("layer_experts") + "'");
      }
    }
    s.expert_hidden = count("expert_hidden");
    s.gate_hidden = count("gate_hidden");
    s.balance_margin = std::stod(get("balance_margin"));
    s.balance_epochs = count("balance_epochs");
  }
  if (a.count("gate")) s.gate = get("gate");  // files written before the Gaussian gate: linear
  s.validate();
  return s;
}

arma::uword ModelSpec::expert_count() const {
  const ModelEntry& entry = model_entry(kind);
  return entry.expert_count ? entry.expert_count(*this) : 0;
}

void ModelSpec::validate() const {
  const ModelEntry& entry = model_entry(kind);  // unknown --model: the registry's one-line error
  if (entry.language_model || task == Task::lm) return validate_lm();
  auto reads = [&](const char* flag) { return std::find(entry.flags.begin(), entry.flags.end(), flag) != entry.flags.end(); };
  require(balance_epochs == 0 || reads("balance-epochs"), "--balance-epochs needs --model deep");
  require(!freeze_experts || reads("freeze-experts"), "--freeze-experts needs --model meta-pi");
  const GateEntry& gate_kind = gate_entry(gate);  // unknown --gate: one line
  require(!gate_kind.models_inputs || reads("gate"), "--gate " + gate + " does not apply to --model " + kind);
  require(inputs >= 1, "the model needs at least one input feature");
  require(outputs >= 1, "the model needs at least one output");
  if (entry.validate) entry.validate(*this);
}

void ModelSpec::validate_experts() const {
  require(experts >= 1, "--experts must be at least 1 (got " + std::to_string(experts) + ")");
  require(!(expert_entry(expert).classification_only && task != Task::classification),
          "softmax experts need --task classification");
  require(gate_init_scale >= 0.0 && std::isfinite(gate_init_scale), "--gate-init-scale must be a finite number >= 0");
}

void ModelSpec::validate_mlp() const {
  require(hidden >= 1, "--hidden must be at least 1 (got " + std::to_string(hidden) + ")");
  require(activation == "tanh" || activation == "sigmoid" || activation == "relu",
          "unknown activation '" + activation + "' (expected tanh, sigmoid or relu)");
  require(output == "softmax" || output == "sigmoid" || output == "linear",
          "unknown MLP output '" + output + "' (expected softmax, sigmoid or linear)");
  require(!(output == "softmax" && task != Task::classification), "a softmax output needs --task classification");
}

}  // namespace moe
