#pragma once
// The model kinds of --model, one registry entry each (moe/core/registry.hpp), registered beside each
// model's code: name, one-line help, the model flags it reads, its own checks and its factory.
// make_model (model.hpp), ModelSpec::validate, the command line (choices, help, "does not apply", --list)
// and the tests read the entries; nothing lists the kinds by hand.
#include <armadillo>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "moe/core/registry.hpp"
#include "moe/models/model_spec.hpp"

namespace moe {

class Model;

struct ModelEntry {
  std::string name;  // the --model value, also saved in results files (/model kind)
  std::string help;  // one line for --help and --list
  // Model flags it reads (long names without dashes). A flag that other models read, given with this one,
  // is refused as not applying (Registry::reject_unused). The sparse layer's flags are the routers'
  // business once a model reads "router".
  std::vector<std::string> flags;
  // A language model (--task lm): its spec is checked by ModelSpec::validate_lm alone.
  bool language_model = false;
  // Checks of the settings only this model has; throws moe::Error. Called by ModelSpec::validate after the
  // checks every model shares. May be empty.
  std::function<void(const ModelSpec& spec)> validate;
  // How many experts the spec's model has (a mixture's K, an hme's branching^depth, ...); empty: none.
  std::function<arma::uword(const ModelSpec& spec)> expert_count;
  // A lower bound on the values in the state of the spec's model (Model::collect_state), from the sizes
  // alone, within a small factor of the truth: read_model refuses a file whose attributes claim more than
  // its datasets hold (moe/io/model_io.hpp).
  std::function<double(const ModelSpec& spec)> state_values;
  // Builds the model (validated spec; untrained weights until init or load).
  std::function<std::unique_ptr<Model>(const ModelSpec& spec)> make;
};

using ModelRegistry = Registry<ModelEntry>;
using ModelRegistration = Registration<ModelEntry>;

// The entry named `name`; moe::Error "unknown --model ..." when none is.
const ModelEntry& model_entry(const std::string& name);

}  // namespace moe
