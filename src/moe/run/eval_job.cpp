#include "moe/run/eval_job.hpp"

#include <algorithm>
#include <cstdio>

#include "moe/core/error.hpp"
#include "moe/core/output_path.hpp"
#include "moe/core/threads.hpp"
#include "moe/core/warning.hpp"
#include "moe/data/read_table.hpp"
#include "moe/data/spec.hpp"
#include "moe/h5/hdf5.hpp"
#include "moe/io/data_record.hpp"
#include "moe/io/model_io.hpp"
#include "moe/run/lm_eval_job.hpp"
#include "moe/train/metrics.hpp"

namespace moe {

namespace {

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

// The target column(s) to read: the model's (recorded by moe-train), or --target where the file records
// none; a --target that names other columns is refused.
std::string target_columns(const EvalJob& job, const SavedModel& saved, const std::optional<DataRecord>& record) {
  const ModelSpec& spec = saved.model->spec();
  const std::string& given = job.data.target;
  std::vector<std::string> recorded;
  if (record) recorded = record->target_columns;
  if (recorded.empty() && spec.task == Task::regression) recorded = saved.target_names;  // its targets are columns
  if (recorded.empty()) {
    require(!given.empty(), job.model_path + " does not record its target column (a file from before moe-train "
                                             "recorded it): give --target");
    return given;
  }
  require(given.empty() || split_list(given) == recorded,
          "--target " + given + " does not match the model's target " + joined(recorded) + " (leave --target out: "
          "the model file records it)");
  return joined(recorded);
}

}  // namespace

EvalJobResult run_eval_job(const EvalJob& job) {
  require(!job.output.empty(), "no output file given (--output)");
  require(!job.model_path.empty(), "no model file given (--model)");
  refuse_output_over_inputs({"--output", job.output},
                            {{"--model", job.model_path}, {"--data", job.data.path}, {"--config", job.info.config_file}});
  output_target(job.output);  // a device, FIFO or directory is refused before the evaluation
  set_threads(job.threads);
  const h5::File model_file = h5::File::open(job.model_path);
  SavedModel saved = read_model(model_file);
  const std::optional<DataRecord> record = read_data_record(model_file);
  const ModelSpec& spec = saved.model->spec();
  if (spec.task == Task::lm) return run_lm_eval_job(job, saved, record);  // src/moe/run/lm_eval_job.cpp

  DataOptions options = job.data;
  // A model trained on a --feature-matrix NAME has the features NAME[0] .. NAME[d-1]: read the same matrix.
  const std::string& first = saved.feature_names.front();
  if (options.feature_matrix.empty() && options.features.empty() && is_hdf5_path(options.path) &&
      first.size() > 3 && first.compare(first.size() - 3, 3, "[0]") == 0) {
    const std::string name = first.substr(0, first.size() - 3);
    if (saved.feature_names == feature_matrix_names(name, saved.feature_names.size())) options.feature_matrix = name;
  }
  // The model's inputs are its training columns, in that order; anything else would evaluate silently wrong.
  require(options.features.empty() || options.features == saved.feature_names,
          "--features " + joined(options.features) + " do not match the model's features " +
              joined(saved.feature_names));
  options.features = saved.feature_names;
  options.task = to_string(spec.task);
  if (spec.task == Task::classification) {
    auto sorted = [](std::vector<std::string> v) {
      std::sort(v.begin(), v.end());
      return v;
    };
    require(options.classes.empty() || sorted(options.classes) == sorted(saved.target_names),
            "--classes " + joined(options.classes) + " are not the model's classes " + joined(saved.target_names));
    options.classes = saved.target_names;  // the model's output order
  }
  if (job.predict_only) {
    require(options.target.empty(), "--target does not apply with --predict-only, which reads no targets");
    options.targets = false;
  } else {
    options.target = target_columns(job, saved, record);
    // Data without the target column: say how to predict for it, rather than "unknown column".
    require(!options.path.empty(), "no data file given (--data)");
    const std::vector<std::string> columns =
        table_columns(options.path, is_hdf5_path(options.path) ? options.hdf5_group : "");
    for (const std::string& t : split_list(options.target))
      require(std::find(columns.begin(), columns.end(), t) != columns.end(),
              options.path + " has no column '" + t + "' (the model's target); for data without targets give "
              "--predict-only");
  }
  Dataset data = load_dataset(options);
  require(data.d() == spec.inputs, "the data has " + std::to_string(data.d()) + " features, the model expects " +
                                       std::to_string(spec.inputs));
  require(job.predict_only || data.m() == spec.outputs, "the data has " + std::to_string(data.m()) +
                                                            " targets, the model expects " +
                                                            std::to_string(spec.outputs));
  if (data.dropped_missing > 0) warn("missing-rows", missing_rows_note(data.dropped_missing));
  data.X = saved.standardizer.apply(data.X);

  h5::File out = h5::File::create(job.output);
  RunInfo info = job.info;
  info.program = "moe-eval";
  info.threads = max_threads();
  write_run_info(out, info);
  out.set_attr("/", "model_file", job.model_path);
  EvalJobResult r;
  if (job.predict_only) {
    r.metrics.usage = write_predictions(out, job.name, *saved.model, data);
    out.set_attr("eval/" + job.name, "predict_only", std::int64_t(1));
  } else {
    r.metrics = write_eval(out, job.name, *saved.model, data);
  }
  r.predict_only = job.predict_only;
  r.n = data.n();
  r.experts = saved.model->experts();
  r.model_kind = spec.kind;
  out.commit();
  return r;
}

std::string summarize(const EvalJobResult& r) {
  char buf[256];
  if (r.predict_only)
    std::snprintf(buf, sizeof buf, "%s on %llu points: predictions only (no targets, no metrics)", r.model_kind.c_str(),
                  (unsigned long long)r.n);
  else if (r.metrics.perplexity >= 0)
    std::snprintf(buf, sizeof buf, "%s on %llu tokens: loss %.5f  perplexity %.3f", r.model_kind.c_str(),
                  (unsigned long long)r.n, r.metrics.loss, r.metrics.perplexity);
  else
    std::snprintf(buf, sizeof buf, "%s on %llu points: loss %.5f  mse %.5f", r.model_kind.c_str(),
                  (unsigned long long)r.n, r.metrics.loss, r.metrics.mse);
  std::string out = buf;
  if (r.metrics.accuracy >= 0 && !r.predict_only) {
    std::snprintf(buf, sizeof buf, "  accuracy %.4f", r.metrics.accuracy);
    out += buf;
  }
  if (r.experts > 0) {
    std::snprintf(buf, sizeof buf, "  experts alive (>0.05) %llu of %llu",
                  (unsigned long long)alive_experts(r.metrics.usage), (unsigned long long)r.experts);
    out += buf;
  }
  return out + "\n";
}

}  // namespace moe
