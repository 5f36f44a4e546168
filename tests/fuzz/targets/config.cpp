// Fuzz target: moe-train's --config FILE. The input is the TOML file; it is parsed by CLI11 with exactly
// moe-train's options (apps/train_options.hpp) and command line {moe-train --config FILE --data x.csv -o
// y.h5}, then put through every check of the options that needs no data: finish_train_job, the data
// options, the model spec (as classification with 2 inputs and 3 classes, as regression, or as a
// language model, whichever the file's task asks for) and the trainer options, and the config text
// moe-train records in its results file. A CLI::ParseError or moe::Error is the expected refusal.
// Oracle: a spec that validates survives the attribute round trip that saving and loading a model does.
#include "moe/run/train_job.hpp"
#include "targets/fuzz_util.hpp"
#include "train_options.hpp"

namespace moe::fuzz {

namespace {

void check_job(const TrainJob& job) {
  job.data.validate();
  ModelSpec spec = job.model;
  TrainOptions train = job.train;
  spec.task = parse_task(job.data.task);
  if (spec.task == Task::lm) {  // as run_train_job fills it in from an lm corpus
    if (spec.kind == "mixture") spec.kind = "lm";
    spec.inputs = job.data.lm.context;
    spec.outputs = 10;
    spec.context_vocabulary = 10;
    spec.tokenizer = job.data.lm.tokenizer;
    if (spec.moe_layer) spec.sparse.model_dim = spec.hidden;
    if (train.criterion_metric == "mse") train.criterion_metric = "perplexity";
  } else {
    spec.inputs = 2;
    spec.outputs = spec.task == Task::classification ? 3 : 1;
  }
  spec.validate();
  train.validate(spec.task == Task::classification);
  const auto attributes = spec.to_attributes();
  ModelSpec back;
  try {
    back = ModelSpec::from_attributes(attributes);
  } catch (const moe::Error& e) {
    oracle(false, std::string("a valid spec does not survive to_attributes/from_attributes: ") + e.what());
  }
  oracle(back.to_attributes() == attributes, "a spec changes in the to_attributes/from_attributes round trip");
}

}  // namespace

int fuzz_config(const std::uint8_t* data, std::size_t size) {
  ScratchFile file("config.toml");
  file.write(data, size);
  TrainJob job;
  bool fixed_variance = false;
  CLI::App app{"moe-train (fuzz)", "moe-train"};
  cli::add_train_options(app, job, fixed_variance);
  std::vector<std::string> args{"moe-train", "--config", file.path(), "--data", "x.csv", "-o", "y.h5"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  try {
    app.parse(int(argv.size()), argv.data());
  } catch (const CLI::ParseError&) {
    return 0;
  }
  if (refuses([&] { cli::finish_train_job(app, job, fixed_variance); })) return 0;
  (void)cli::recorded_config(app, job);  // recorded in every results file
  refuses([&] { check_job(job); });
  return 0;
}

}  // namespace moe::fuzz
