#include "moe/models/model_registry.hpp"

namespace moe {

const ModelEntry& model_entry(const std::string& name) { return ModelRegistry::instance().get(name, "--model"); }

}  // namespace moe
