#include "moe/gates/gate_registry.hpp"

namespace moe {

const GateEntry& gate_entry(const std::string& name) { return GateRegistry::instance().get(name, "--gate"); }

std::unique_ptr<Gate> make_gate(const std::string& kind, arma::uword inputs, arma::uword experts) {
  return gate_entry(kind).make(inputs, experts);
}

}  // namespace moe
