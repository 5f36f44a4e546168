#pragma once
// The gates of a flat mixture (--gate), one registry entry each (moe/core/registry.hpp), registered beside
// each gate's code: name, one-line help, which models can take it, and its factory.
#include <armadillo>
#include <functional>
#include <memory>
#include <string>

#include "moe/core/registry.hpp"
#include "moe/gates/gate.hpp"

namespace moe {

struct GateEntry {
  std::string name;  // the --gate value, saved in results files (/model gate)
  std::string help;  // one line for --help and --list
  // The gate models the inputs' density p(x) (the localised gate): its EM M-step fits p(x, expert), which
  // is the flat mixture's likelihood only, so EM refuses it in an hme (gradient training works anywhere).
  bool models_inputs = false;
  std::function<std::unique_ptr<Gate>(arma::uword inputs, arma::uword experts)> make;
};

using GateRegistry = Registry<GateEntry>;
using GateRegistration = Registration<GateEntry>;

// The entry named `name`; moe::Error "unknown --gate ..." when none is.
const GateEntry& gate_entry(const std::string& name);

}  // namespace moe
