#include "moe/experts/expert_registry.hpp"

namespace moe {

const ExpertEntry& expert_entry(const std::string& name) { return ExpertRegistry::instance().get(name, "--expert"); }

std::unique_ptr<Expert> make_expert(const std::string& kind, arma::uword inputs, arma::uword outputs,
                                    bool learn_variance) {
  return expert_entry(kind).make(inputs, outputs, learn_variance);
}

}  // namespace moe
