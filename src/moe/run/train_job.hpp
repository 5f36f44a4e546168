#pragma once
// What moe-train does, as a library call: data -> model -> training -> one HDF5 results file.
// The app only turns flags into a TrainJob (no maths in apps).
#include <string>
#include <vector>

#include "moe/io/results.hpp"
#include "moe/models/model_spec.hpp"
#include "moe/run/data_options.hpp"
#include "moe/train/metrics.hpp"
#include "moe/train/trainer.hpp"

namespace moe {

struct TrainJob {
  DataOptions data;
  ModelSpec model;      // kind and sizes; inputs/outputs/task are filled from the data
  TrainOptions train;
  std::uint64_t seed = 1;
  int threads = 0;      // 0 = library default
  std::string output;   // results file (.h5)
  // meta-pi: moe-train results files of trained mlp models (same features and classes), one per
  // expert; they set the number and architecture of the experts and their initial (or frozen) weights.
  std::vector<std::string> expert_models;
  // sparse: a moe-train results file of a dense sparse-kind model (1 expert) on the same data; its weights
  // start this run, its FFN copied into every expert (sparse upcycling).
  std::string upcycle_from;
  RunInfo info;         // command line and config text, recorded in the file
  // Checkpoints: written to `checkpoint` (default "<output>.ckpt") every `checkpoint_every` epochs
  // (0: only when stopped by SIGINT/SIGTERM, once install_stop_handlers() ran); `resume` continues from
  // it when it exists. Removed once the results file is written.
  std::string checkpoint;
  std::size_t checkpoint_every = 0;
  bool resume = false;
  // sparse: the experts spread over the processes of an `mpirun -np P` job (MPI_COMM_WORLD), E / P each;
  // every rank reads the data and trains on its share of each batch; rank 0 writes the results, with
  // each rank's load and time in collectives (/routing/rank_*). No checkpoints.
  bool expert_parallel = false;
};

// The settings a checkpoint must share with the run that resumes it: the config text without the keys
// that may change between the two (checkpointing, --epochs to train longer, threads, output, quiet).
std::string checkpoint_identity(const std::string& config_toml);

struct TrainJobResult {
  TrainResult train;
  Metrics train_metrics, valid_metrics, test_metrics;
  bool has_valid = false, has_test = false;
  bool primary = true;  // expert parallelism: only rank 0 prints the summary
  bool criterion_set = false;  // a --criterion was given (the summary then says whether it was reached)
};

// Throws moe::Error (one line) on bad input, before anything is written; the output file appears
// only when everything succeeded. Throws moe::Stopped after writing a checkpoint when a stop was requested.
TrainJobResult run_train_job(const TrainJob& job);

std::string summarize(const TrainJobResult& result, const ModelSpec& spec);

}  // namespace moe
