#include "moe/run/lm_eval_job.hpp"

#include "moe/core/error.hpp"
#include "moe/core/threads.hpp"
#include "moe/h5/hdf5.hpp"
#include "moe/run/lm_data.hpp"

namespace moe {

EvalJobResult run_lm_eval_job(const EvalJob& job, const SavedModel& saved) {
  const ModelSpec& spec = saved.model->spec();
  DataOptions options = job.data;
  options.task = "lm";
  options.lm.context = spec.inputs;
  if (spec.tokenizer != "none") options.lm.tokenizer = spec.tokenizer;
  const std::string part = options.lm.part;
  require(part == "all" || options.split_seed != 0,
          "--part " + part + " needs --split-seed (the training run's --split-seed, or its --seed)");
  if (part == "all") options.valid_fraction = options.test_fraction = 0.0;
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
