#include "moe/core/error.hpp"
#include "moe/lm/language_model.hpp"
#include "moe/models/deep_moe.hpp"
#include "moe/models/hierarchical.hpp"
#include "moe/models/local_experts.hpp"
#include "moe/models/meta_pi.hpp"
#include "moe/models/mlp.hpp"
#include "moe/models/sparse_net.hpp"

namespace moe {

std::unique_ptr<Model> make_model(const ModelSpec& spec) {
  spec.validate();
  if (spec.kind == "mixture") return std::make_unique<LocalExpertsMixture>(spec);
  if (spec.kind == "mlp") return std::make_unique<Mlp>(spec);
  if (spec.kind == "lm") return std::make_unique<LanguageModel>(spec);
  if (spec.kind == "hme") return std::make_unique<HierarchicalMixture>(spec);
  if (spec.kind == "meta-pi") return std::make_unique<MetaPi>(spec);
  if (spec.kind == "deep") return std::make_unique<DeepMoe>(spec);
  if (spec.kind == "sparse") return std::make_unique<SparseNet>(spec);
  fail("unknown model '" + spec.kind + "'");
}

}  // namespace moe
