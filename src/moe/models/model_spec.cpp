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

std::string count_list(const std::vector<arma::uword>& v) {  // "4,4"
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(v[i]);
  }
  return out;
}

namespace {

// The fields every kind may save, each declared once: attribute name, the flag that sets it (saved and
// read only for a kind whose registry entry reads that flag), the field. One list drives writing and
// reading, so the two cannot drift apart.
template <class Spec, class Visitor>
void visit_fields(Spec& s, Visitor&& v) {
  v.count("experts", "experts", s.experts);
  v.text("expert", "expert", s.expert);
  v.flag("learn_variance", "fixed-variance", s.learn_variance);
  v.number("gate_init_scale", "gate-init-scale", s.gate_init_scale);
  v.flag("hard", "hard", s.hard);
  v.text("gate", "gate", s.gate);
  v.count("depth", "depth", s.depth);
  v.count("branching", "branching", s.branching);
  v.count("hidden", "hidden", s.hidden);
  v.text("activation", "activation", s.activation);
  v.text("output", "mlp-output", s.output);
  v.flag("freeze_experts", "freeze-experts", s.freeze_experts);
  v.counts("layer_experts", "layer-experts", s.layer_experts);
  v.count("expert_hidden", "expert-hidden", s.expert_hidden);
  v.count("gate_hidden", "gate-hidden", s.gate_hidden);
  v.number("balance_margin", "balance-margin", s.balance_margin);
  v.count("balance_epochs", "balance-epochs", s.balance_epochs);
}

bool reads(const ModelEntry& entry, const char* flag) {
  return std::find(entry.flags.begin(), entry.flags.end(), flag) != entry.flags.end();
}

struct Writer {
  const ModelEntry& entry;
  Attributes& a;
  void count(const char* name, const char* flag, arma::uword v) {
    if (reads(entry, flag)) a[name] = std::int64_t(v);
  }
  void flag(const char* name, const char* flag, bool v) {
    if (reads(entry, flag)) a[name] = std::int64_t(v ? 1 : 0);
  }
  void number(const char* name, const char* flag, double v) {
    if (reads(entry, flag)) a[name] = v;
  }
  void text(const char* name, const char* flag, const std::string& v) {
    if (reads(entry, flag)) a[name] = v;
  }
  void counts(const char* name, const char* flag, const std::vector<arma::uword>& v) {
    if (reads(entry, flag)) a[name] = count_list(v);
  }
};

struct Reader {
  const ModelEntry& entry;
  const Attributes& a;
  // Files written before hard MoE and the Gaussian gate lack these two: their defaults (soft, linear).
  bool optional(const char* name) const {
    return (std::string(name) == "hard" || std::string(name) == "gate") && !a.count(name);
  }
  void count(const char* name, const char* flag, arma::uword& v) {
    if (reads(entry, flag) && !optional(name)) v = arma::uword(count_attribute(a, name));
  }
  void flag(const char* name, const char* flag, bool& v) {
    if (reads(entry, flag) && !optional(name)) v = flag_attribute(a, name);
  }
  void number(const char* name, const char* flag, double& v) {
    if (reads(entry, flag) && !optional(name)) v = number_attribute(a, name);
  }
  void text(const char* name, const char* flag, std::string& v) {
    if (reads(entry, flag) && !optional(name)) v = text_attribute(a, name);
  }
  void counts(const char* name, const char* flag, std::vector<arma::uword>& v) {
    if (!reads(entry, flag)) return;
    v.clear();
    const std::string list = text_attribute(a, name);
    for (const std::string& item : split_list(list)) {
      try {
        v.push_back(arma::uword(std::stoull(item)));
      } catch (const std::logic_error&) {
        fail("model attribute '" + std::string(name) + "' is not a list of counts: '" + list + "'");
      }
    }
  }
};

}  // namespace

Attributes ModelSpec::to_attributes() const {
  Attributes a{{"kind", kind},
               {"task", to_string(task)},
               {"inputs", std::int64_t(inputs)},
               {"outputs", std::int64_t(outputs)}};
  const ModelEntry& entry = model_entry(kind);
  visit_fields(*this, Writer{entry, a});
  if (kind == "lm") add_lm_attributes(a);
  if (kind == "sparse") sparse.add_attributes(a);
  return a;
}

ModelSpec ModelSpec::from_attributes(const Attributes& a) {
  ModelSpec s;
  s.kind = text_attribute(a, "kind");
  s.task = parse_task(text_attribute(a, "task"));
  s.inputs = arma::uword(count_attribute(a, "inputs"));
  s.outputs = arma::uword(count_attribute(a, "outputs"));
  const ModelEntry& entry = model_entry(s.kind);  // an unknown kind: the registry's one-line error
  visit_fields(s, Reader{entry, a});
  if (s.kind == "lm") s.read_lm_attributes(a);
  if (s.kind == "sparse") s.sparse.read_attributes(a);
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
