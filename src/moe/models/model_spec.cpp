#include "moe/models/model_spec.hpp"

#include "moe/core/error.hpp"
#include "moe/experts/expert.hpp"

namespace moe {

std::string to_string(Task task) { return task == Task::classification ? "classification" : "regression"; }

Task parse_task(const std::string& name) {
  if (name == "classification") return Task::classification;
  if (name == "regression") return Task::regression;
  fail("unknown task '" + name + "' (expected classification or regression)");
}

std::map<std::string, std::string> ModelSpec::to_attributes() const {
  return {{"kind", kind},
          {"task", to_string(task)},
          {"inputs", std::to_string(inputs)},
          {"outputs", std::to_string(outputs)},
          {"experts", std::to_string(experts)},
          {"expert", expert},
          {"learn_variance", learn_variance ? "true" : "false"},
          {"gate_init_scale", std::to_string(gate_init_scale)},
          {"hidden", std::to_string(hidden)},
          {"activation", activation},
          {"output", output}};
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
  s.hidden = count("hidden");
  s.activation = get("activation");
  s.output = get("output");
  s.validate();
  return s;
}

void ModelSpec::validate() const {
  require(kind == "mixture" || kind == "mlp", "unknown model '" + kind + "' (expected mixture or mlp)");
  require(inputs >= 1, "the model needs at least one input feature");
  require(outputs >= 1, "the model needs at least one output");
  if (kind == "mixture") {
    require(experts >= 1, "--experts must be at least 1 (got " + std::to_string(experts) + ")");
    const ExpertKind e = parse_expert_kind(expert);
    require(!(e == ExpertKind::softmax && task != Task::classification),
            "softmax experts need --task classification");
    require(gate_init_scale >= 0.0, "--gate-init-scale must not be negative");
  } else {
    require(hidden >= 1, "--hidden must be at least 1 (got " + std::to_string(hidden) + ")");
    require(activation == "tanh" || activation == "sigmoid" || activation == "relu",
            "unknown activation '" + activation + "' (expected tanh, sigmoid or relu)");
    require(output == "softmax" || output == "sigmoid" || output == "linear",
            "unknown MLP output '" + output + "' (expected softmax, sigmoid or linear)");
    require(!(output == "softmax" && task != Task::classification), "a softmax output needs --task classification");
  }
}

}  // namespace moe
