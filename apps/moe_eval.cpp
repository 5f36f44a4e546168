// moe-eval: evaluate a model saved by moe-train on a data set; write predictions, gate probabilities,
// posteriors, hard assignments and metrics to HDF5 and print a summary.
#include "cli_common.hpp"
#include "lm_options.hpp"
#include "moe/core/build_info.hpp"
#include "moe/run/eval_job.hpp"

int main(int argc, char** argv) {
  moe::EvalJob job;
  bool quiet = false;
  CLI::App app{"Evaluate a model saved by moe-train on a data set and write an HDF5 results file.\n"
               "Features and class order come from the model; give the target column and any row filters.",
               "moe-eval"};
  moe::cli::last_value_wins(app);
  moe::cli::add_version_flag(app);
  moe::cli::add_config_option(app);
  moe::cli::path_option(app.add_option("--model", job.model_path, "Results file written by moe-train (its /model "
                                                                  "group is loaded)"))
      ->required();
  moe::cli::add_data_options(app, job.data, false);
  moe::cli::add_lm_data_options(app, job.data.lm, true);
  app.add_option("--valid-fraction", job.data.valid_fraction, "lm --part: the training run's --valid-fraction")
      ->capture_default_str();
  app.add_option("--test-fraction", job.data.test_fraction, "lm --part: the training run's --test-fraction")
      ->capture_default_str();
  app.add_option("--split-seed", job.data.split_seed, "lm --part: the training run's --split-seed (or --seed)")
      ->capture_default_str();
  app.add_option("--name", job.name, "Name of the group under /eval")->capture_default_str();
  app.add_option("--threads", job.threads, "Threads of the library's OpenMP loops (0: all cores); BLAS calls run single-threaded")
      ->capture_default_str();
  moe::cli::path_option(app.add_option("-o,--output", job.output, "Results file to write (HDF5)"))->required();
  app.add_flag("-q,--quiet", quiet, "No summary");

  moe::cli::check_number_options(app);
  return moe::cli::run(app, argc, argv, [&] {
    job.info.command_line = moe::cli::command_line(argc, argv);
    job.info.config_toml = app.config_to_str(true, false);
    const moe::EvalJobResult r = moe::run_eval_job(job);
    if (!quiet) std::fputs(moe::summarize(r).c_str(), stdout);
  });
}
