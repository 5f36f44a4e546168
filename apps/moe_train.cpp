// moe-train: train one model on one data set and write one HDF5 results file.
#include "train_options.hpp"
#include "moe/core/stop_request.hpp"

int main(int argc, char** argv) {
  moe::TrainJob job;
  job.seed = 1;
  bool fixed_variance = false;
  CLI::App app{"Train a mixture of experts (or a baseline) and write an HDF5 results file.\n"
               "Example (Jacobs et al. 1991 vowels):\n"
               "  moe-train --data pb.csv --features F1,F2 --target Vowel --filter Vowel=iy,ih,aa,ah \\\n"
               "            --group Speaker --train-groups 50 --test-groups 25 --experts 4 -o run.h5",
               "moe-train"};
  moe::cli::add_train_options(app, job, fixed_variance);
  moe::cli::add_version_flag(app);
  return moe::cli::run(app, argc, argv, [&] {
    moe::cli::finish_train_job(app, job, fixed_variance, moe::cli::command_line_flags(app, argc, argv));
    // SIGINT / SIGTERM: checkpoint and stop (moe::Stopped, exit 128 + signal). Not with expert parallelism:
    // the ranks would see the stop at different steps; mpirun's default (end every rank) stands.
    if (!job.expert_parallel) moe::install_stop_handlers();
    job.info.command_line = moe::cli::command_line(argc, argv);
    job.info.config_file = moe::cli::config_file(app);
    job.info.config_toml = moe::cli::recorded_config(app, job);
    const moe::TrainJobResult r = moe::run_train_job(job);
    if (!job.train.quiet && r.primary) std::fputs(moe::summarize(r, job.model).c_str(), stdout);
  });
}
