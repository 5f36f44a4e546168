#include "moe/run/lm_eval_job.hpp"

#include <algorithm>

#include "moe/core/error.hpp"
#include "moe/core/threads.hpp"
#include "moe/h5/hdf5.hpp"
#include "moe/run/lm_data.hpp"

namespace moe {

namespace {

std::string number(double x) {
  std::string s = std::to_string(x);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

EvalJobResult run_lm_eval_job(const EvalJob& job, const SavedModel& saved, const std::optional<DataRecord>& record) {
  const ModelSpec& spec = saved.model->spec();
  auto given = [&](const char* flag) { return std::find(job.given.begin(), job.given.end(), flag) != job.given.end(); };
  require(!job.predict_only, "--predict-only does not apply to a language model (its targets are the next tokens)");
  require(job.data.target.empty(), "--target does not apply to a language model (its targets are the next tokens)");
  require(!given("missing"), "--missing does not apply to a language model (a corpus has no cells)");
  DataOptions options = job.data;
  options.task = "lm";
  // The model's context and tokenizer; a flag given must agree (another would encode the text differently).
  require(!given("context") || options.lm.context == spec.inputs,
          "--context " + std::to_string(options.lm.context) + " does not match the model's context " +
              std::to_string(spec.inputs) + " (leave it out: the model file records it)");
  options.lm.context = spec.inputs;
  if (spec.tokenizer != "none") {
    require(!given("tokenizer") || options.lm.tokenizer == spec.tokenizer,
            "--tokenizer " + options.lm.tokenizer + " does not match the model's tokenizer " + spec.tokenizer +
                " (leave it out: the model file records it)");
    options.lm.tokenizer = spec.tokenizer;
  }
  const std::string part = options.lm.part;
  const bool recorded_split = record && !record->tokenizer.empty();  // a text model's split, recorded
  if (part == "all") {
    options.valid_fraction = options.test_fraction = 0.0;  // every document, whatever the training split
  } else if (recorded_split) {
    // The training run's split: its fractions, seed and document count; a flag given must agree.
    const std::string source = record->from_config ? " (from its config)" : "";
    auto agree = [&](const char* flag, bool same, const std::string& value) {
      require(!given(flag) || same, std::string("--") + flag + " does not match the training run's " + value +
                                        source + " (leave it out: the model file records it)");
    };
    agree("valid-fraction", options.valid_fraction == record->valid_fraction, number(record->valid_fraction));
    agree("test-fraction", options.test_fraction == record->test_fraction, number(record->test_fraction));
    agree("split-seed", options.split_seed == record->split_seed, std::to_string(record->split_seed));
    agree("max-documents", options.lm.max_documents == record->max_documents, std::to_string(record->max_documents));
    options.valid_fraction = record->valid_fraction;
    options.test_fraction = record->test_fraction;
    options.split_seed = record->split_seed;
    options.lm.max_documents = record->max_documents;
  } else {
    require(options.split_seed != 0,
            "--part " + part + " needs --split-seed (the training run's --split-seed, or its --seed): " +
                job.model_path + " does not record its split");
  }
  Rng split_rng = Rng(options.split_seed).stream(1);  // as moe-train draws its split
  PreparedData data = prepare_lm_data(options, split_rng, &saved.target_names);
  const Dataset& d = part == "valid" ? data.valid : part == "test" ? data.test : data.train;
  require(d.n() > 0, "the " + part + " part of " + options.path + " is empty");
  // The documents of the part must be the training run's: other corpus or split flags (a different
  // --max-documents, say) would silently score documents the model was trained on.
  if (part != "all") {
    const h5::File model_file = h5::File::open(job.model_path);
    const std::string stored = "split/" + part + "_groups";
    if (model_file.exists(stored)) {
      const std::vector<std::string>& mine = part == "valid"  ? data.split.valid_groups
                                             : part == "test" ? data.split.test_groups
                                                              : data.split.train_groups;
      require(model_file.read_strings(stored) == mine,
              "the " + part + " documents selected by these data flags differ from the training run's (" +
                  job.model_path + ":/" + stored + "); give the training run's corpus, split and document flags");
    }
  }
  require(data.context_vocabulary == (spec.context_vocabulary ? spec.context_vocabulary : spec.outputs),
          options.path + " has " + std::to_string(data.context_vocabulary) + " context ids, the model expects " +
              std::to_string(spec.context_vocabulary ? spec.context_vocabulary : spec.outputs));

  h5::File out = h5::File::create(job.output);
  RunInfo info = job.info;
  info.program = "moe-eval";
  info.threads = max_threads();
  write_run_info(out, info);
  out.set_attr("/", "model_file", job.model_path);
  EvalJobResult r;
  r.metrics = write_eval(out, job.name, *saved.model, d);
  r.n = d.n();
  r.experts = saved.model->experts();
  r.model_kind = spec.kind + " (" + spec.head + ")";
  out.commit();
  return r;
}

}  // namespace moe
