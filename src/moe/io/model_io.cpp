#include "moe/io/model_io.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <variant>

#include "moe/core/error.hpp"
#include "moe/models/model_registry.hpp"

namespace moe {

double min_state_values(const ModelSpec& s) {
  const ModelEntry& entry = model_entry(s.kind);
  return entry.state_values ? entry.state_values(s) : 0.0;
}

namespace {

// The values stored under `group` (datasets of sub-groups included), counting only datasets that could be
// read at all: one larger than this machine's memory is refused when read, so it cannot make room for an
// absurd model either.
double stored_values(const h5::File& file, const std::string& group, int depth) {
  static const double memory = double(::sysconf(_SC_PHYS_PAGES)) * double(::sysconf(_SC_PAGE_SIZE));
  double total = 0;
  for (const std::string& name : file.children(group)) {
    const std::string path = group + "/" + name;
    if (file.is_dataset(path)) {
      double n = 1;
      for (std::uint64_t k : file.shape(path)) n *= double(k);
      if (8 * n <= memory) total += n;
    } else if (file.is_group(path) && depth < 16) {
      total += stored_values(file, path, depth + 1);
    }
  }
  return total;
}

}  // namespace

void write_model(h5::File& file, Model& model, const Standardizer& standardizer,
                 const std::vector<std::string>& feature_names, const std::vector<std::string>& target_names) {
  file.create_group("model");
  for (const auto& [key, value] : model.spec().to_attributes())
    std::visit([&, &key = key](const auto& v) { file.set_attr("model", key, v); }, value);
  ParamList params;
  model.collect_state(params);
  for (const auto& p : params) file.write("model/params/" + p.name, *p.value);
  file.write("model/standardizer/mean", standardizer.mean);
  file.write("model/standardizer/scale", standardizer.scale);
  file.write("model/feature_names", feature_names);
  file.write("model/target_names", target_names);
}

SavedModel read_model(const h5::File& file) {
  require(file.exists("model"), file.path() + " has no /model group (not a moe-train result file?)");
  // Every /model attribute, typed as stored (text in files written before the attributes were typed);
  // from_attributes takes the ones the kind reads and names any that is missing or malformed.
  Attributes attributes;
  for (const std::string& key : file.attributes("model")) {
    const std::string type = file.attr_type("model", key);
    if (type == "string") attributes[key] = file.attr_string("model", key);
    else if (type.rfind("int", 0) == 0 || type.rfind("uint", 0) == 0) attributes[key] = file.attr_int("model", key);
    else if (type.rfind("float", 0) == 0) attributes[key] = file.attr_double("model", key);
    else fail(file.path() + ": /model attribute '" + key + "' has an unsupported type (" + type + ")");
  }
  ModelSpec declared;
  try {
    declared = ModelSpec::from_attributes(attributes);
  } catch (const Error& e) {
    fail(file.path() + ": " + e.what());
  }
  // Refuse absurd sizes before make_model allocates them. A margin of 10^6 values (8 MB) lets a file that
  // merely lacks a parameter or two reach the precise "parameter ... missing" message below.
  const double needed = min_state_values(declared);
  const double stored = file.is_group("model/params") ? stored_values(file, "model/params", 0) : 0.0;
  if (needed > stored + 1e6) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "at least %.0f parameter values, but /model/params holds %.0f", needed, stored);
    fail(file.path() + ": the /model attributes describe a '" + declared.kind + "' model of " + buf +
         " (damaged or edited file?)");
  }
  SavedModel saved;
  saved.model = make_model(declared);
  ParamList params;
  saved.model->collect_state(params);
  for (const auto& p : params) {
    const arma::mat value = file.read_matrix("model/params/" + p.name);
    require(value.n_rows == p.value->n_rows && value.n_cols == p.value->n_cols,
            file.path() + ": parameter 'model/params/" + p.name + "' is " + std::to_string(value.n_rows) + "x" +
                std::to_string(value.n_cols) + ", expected " + std::to_string(p.value->n_rows) + "x" +
                std::to_string(p.value->n_cols));
    require(value.is_finite(), file.path() + ": parameter 'model/params/" + p.name + "' has NaN or Inf");
    *p.value = value;
  }
  saved.standardizer.mean = file.read_vector("model/standardizer/mean");
  saved.standardizer.scale = file.read_vector("model/standardizer/scale");
  saved.feature_names = file.read_strings("model/feature_names");
  saved.target_names = file.read_strings("model/target_names");
  const auto& spec = saved.model->spec();
  require(saved.standardizer.mean.n_elem == spec.inputs && saved.standardizer.scale.n_elem == spec.inputs &&
              saved.feature_names.size() == spec.inputs,
          file.path() + ": standardizer or feature names do not match the model's " + std::to_string(spec.inputs) +
              " inputs");
  require(saved.target_names.size() == spec.outputs,
          file.path() + ": target names do not match the model's " + std::to_string(spec.outputs) + " outputs");
  return saved;
}

}  // namespace moe
