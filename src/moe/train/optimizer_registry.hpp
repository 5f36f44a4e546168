#pragma once
// The optimisers of the gradient trainer (--optimizer), one registry entry each (moe/core/registry.hpp),
// registered beside each optimiser's code: name, one-line help, the optimiser flags it reads, its factory.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "moe/core/registry.hpp"
#include "moe/train/optimizer.hpp"

namespace moe {

struct OptimizerEntry {
  std::string name;  // the --optimizer value
  std::string help;  // one line for --help and --list
  // Optimiser flags it reads (long names without dashes); a flag that another optimiser reads, given with
  // this one, is refused as not applying.
  std::vector<std::string> flags;
  std::function<std::unique_ptr<Optimizer>(const OptimizerOptions& options)> make;
};

using OptimizerRegistry = Registry<OptimizerEntry>;
using OptimizerRegistration = Registration<OptimizerEntry>;

}  // namespace moe
