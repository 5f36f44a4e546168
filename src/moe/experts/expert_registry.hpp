#pragma once
// The expert kinds of a mixture or an HME (--expert), one registry entry each (moe/core/registry.hpp),
// registered beside each expert's code: name, one-line help, what it needs, its parameter count and its
// factory. The models, validation, `--list experts` and the expert conformance tests read the entries.
#include <armadillo>
#include <functional>
#include <memory>
#include <string>

#include "moe/core/registry.hpp"
#include "moe/experts/expert.hpp"

namespace moe {

struct ExpertEntry {
  std::string name;  // the --expert value, saved in results files (/model expert)
  std::string help;  // one line for --help and --list
  bool classification_only = false;  // models class probabilities (softmax): needs --task classification
  // Free parameters of one expert with d inputs and m outputs (m classes): for the model-size checks.
  std::function<double(double d, double m)> parameters;
  // d inputs, m outputs (classes); learn_variance: the linear-Gaussian expert's variance is trained.
  std::function<std::unique_ptr<Expert>(arma::uword inputs, arma::uword outputs, bool learn_variance)> make;
};

using ExpertRegistry = Registry<ExpertEntry>;
using ExpertRegistration = Registration<ExpertEntry>;

// The entry named `name`; moe::Error "unknown --expert ..." when none is.
const ExpertEntry& expert_entry(const std::string& name);

// expert_entry(kind).make(...).
std::unique_ptr<Expert> make_expert(const std::string& kind, arma::uword inputs, arma::uword outputs,
                                    bool learn_variance);

}  // namespace moe
