#include "moe/io/model_io.hpp"

#include "moe/core/error.hpp"

namespace moe {

void write_model(h5::File& file, Model& model, const Standardizer& standardizer,
                 const std::vector<std::string>& feature_names, const std::vector<std::string>& target_names) {
  file.create_group("model");
  for (const auto& [key, value] : model.spec().to_attributes()) file.set_attr("model", key, value);
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
  std::map<std::string, std::string> attributes;
  ModelSpec of_kind;  // the attributes to expect depend on the kind (meta-pi adds freeze_experts)
  if (file.has_attr("model", "kind")) of_kind.kind = file.attr_string("model", "kind");
  if (file.has_attr("model", "moe_layer")) of_kind.moe_layer = file.attr_string("model", "moe_layer") == "true";
  for (const auto& [key, value] : of_kind.to_attributes()) {
    (void)value;
    require(file.has_attr("model", key), file.path() + ": /model attribute '" + key + "' is missing");
    attributes[key] = file.attr_string("model", key);
  }
  SavedModel saved;
  saved.model = make_model(ModelSpec::from_attributes(attributes));
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
