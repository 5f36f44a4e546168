#pragma once
// What moe-eval does: load a moe-train results file's model, evaluate it on a data set (features are
// taken from the model, standardised with the model's training statistics), write /eval/<name>.
#include <string>

#include "moe/io/results.hpp"
#include "moe/run/data_options.hpp"
#include "moe/train/metrics.hpp"

namespace moe {

struct EvalJob {
  std::string model_path;
  DataOptions data;       // features and classes default to the model's
  std::string name = "data";  // group under /eval
  std::string output;
  int threads = 0;
  RunInfo info;
};

struct EvalJobResult {
  Metrics metrics;
  arma::uword n = 0, experts = 0;
  std::string model_kind;
};

EvalJobResult run_eval_job(const EvalJob& job);
std::string summarize(const EvalJobResult& result);

}  // namespace moe
