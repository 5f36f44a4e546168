#include "moe/models/model.hpp"
#include "moe/models/model_registry.hpp"

namespace moe {

std::unique_ptr<Model> make_model(const ModelSpec& spec) {
  spec.validate();
  return model_entry(spec.kind).make(spec);
}

}  // namespace moe
