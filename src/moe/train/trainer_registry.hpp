#pragma once
// The trainers of moe-train (--trainer), one registry entry each (moe/core/registry.hpp), registered beside
// each trainer's code: name, one-line help, the trainer flags it reads. train() (trainer.hpp) runs them.
#include <string>
#include <vector>

#include "moe/core/registry.hpp"

namespace moe {

struct TrainerEntry {
  std::string name;  // the --trainer value, saved in results files (/history trainer)
  std::string help;  // one line for --help and --list
  // Trainer flags it reads (long names without dashes); a flag that another trainer reads, given with this
  // one, is refused as not applying (the gradient trainer reads the optimisers' flags too).
  std::vector<std::string> flags;
};

using TrainerRegistry = Registry<TrainerEntry>;
using TrainerRegistration = Registration<TrainerEntry>;

}  // namespace moe
