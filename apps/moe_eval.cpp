// moe-eval: evaluate a model saved by moe-train on a data set; write predictions, gate probabilities,
// posteriors, hard assignments and metrics to HDF5 and print a summary.
#include <sstream>

#include "cli_common.hpp"
#include "lm_options.hpp"
#include "moe/core/build_info.hpp"
#include "moe/run/eval_job.hpp"

int main(int argc, char** argv) {
  moe::EvalJob job;
  bool quiet = false;
  CLI::App app{"Evaluate a model saved by moe-train on a data set and write an HDF5 results file.\n"
               "The model file gives the features, the class order and the target column(s); for a language model\n"
               "also the tokenizer, the context and the document split (--part). A flag given for one of these\n"
               "must agree with the model. Data without the target column: give --predict-only, which writes\n"
               "predictions, gate probabilities and row ids but no loss, posteriors or metrics (they need targets);\n"
               "without it such data is an error.",
               "moe-eval"};
  moe::cli::last_value_wins(app);
  moe::cli::add_version_flag(app);
  moe::cli::add_config_option(app);
  moe::cli::path_option(app.add_option("--model", job.model_path, "Results file written by moe-train (its /model "
                                                                  "group is loaded)"))
      ->required();
  moe::cli::add_data_options(app, job.data, false);
  app.get_option("--target")->description("Target column(s); default: the model's (a value given must agree)");
  app.add_flag("--predict-only", job.predict_only, "Data without targets: write predictions, gate probabilities, "
                                                   "assignments and row ids, no loss, posteriors or metrics "
                                                   "(not for language models)");
  moe::cli::add_lm_data_options(app, job.data.lm, true);
  app.get_option("--tokenizer")->description("lm: default: the model's (a value given must agree)")->default_str("");
  app.get_option("--context")->description("lm: default: the model's (a value given must agree)")->default_str("");
  app.get_option("--max-documents")->description("lm: use the first N documents of the corpus (0: all); with a "
                                                  "--part other than all, default: the training run's (a value "
                                                  "given must agree)");
  app.get_option("--part")->description("lm: evaluate all documents, or the train, valid or test part of the "
                                        "training run's document split (recorded in the model file)");
  app.add_option("--valid-fraction", job.data.valid_fraction, "lm --part: default: the training run's (a value "
                                                              "given must agree)");
  app.add_option("--test-fraction", job.data.test_fraction, "lm --part: default: the training run's (a value given "
                                                            "must agree)");
  app.add_option("--split-seed", job.data.split_seed, "lm --part: default: the seed of the training run's split "
                                                      "(its --split-seed, or its --seed; a value given must agree)");
  app.add_option("--name", job.name, "Name of the group under /eval")->capture_default_str();
  app.add_option("--threads", job.threads, "Threads of the library's OpenMP loops (0: all cores); BLAS calls run single-threaded")
      ->capture_default_str();
  moe::cli::path_option(app.add_option("-o,--output", job.output, "Results file to write (HDF5)"))->required();
  app.add_flag("-q,--quiet", quiet, "No summary");

  moe::cli::check_number_options(app);
  return moe::cli::run(app, argc, argv, [&] {
    for (const CLI::Option* o : app.get_options())  // set on the command line or in the --config file
      if (o->count() > 0 && !o->get_lnames().empty()) job.given.push_back(o->get_lnames().front());
    job.info.command_line = moe::cli::command_line(argc, argv);
    job.info.config_file = moe::cli::config_file(app);
    // The flags as TOML, without those left empty (target, classes, and tokenizer and context, which
    // default to the model's): `key=""` would not read back as "not given".
    std::istringstream config(app.config_to_str(true, false));
    for (std::string line; std::getline(config, line);)
      if (line.size() < 3 || line.compare(line.size() - 3, 3, "=\"\"") != 0) job.info.config_toml += line + "\n";
    const moe::EvalJobResult r = moe::run_eval_job(job);
    if (!quiet) std::fputs(moe::summarize(r).c_str(), stdout);
  });
}
