#pragma once
// What moe-eval does: load a moe-train results file's model, evaluate it on a data set (features are
// taken from the model, standardised with the model's training statistics), write /eval/<name>.
#include <string>
#include <vector>

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
  // Predictions for data without targets: no target column is read; /eval/<name> holds predictions and gate
  // probabilities but no loss, posteriors or metrics (write_predictions). Not for language models.
  bool predict_only = false;
  // The long names of the flags the user set (command line or --config). The model file records the
  // target column(s) and, for language models, the tokenizer, context, document count and split; a flag
  // among these that is not in `given` takes the recorded value, one that is must agree with it.
  std::vector<std::string> given;
  RunInfo info;
};

struct EvalJobResult {
  Metrics metrics;
  arma::uword n = 0, experts = 0;
  std::string model_kind;
  bool predict_only = false;  // metrics are unset: only usage (the mean gate) is filled
};

EvalJobResult run_eval_job(const EvalJob& job);
std::string summarize(const EvalJobResult& result);

}  // namespace moe
