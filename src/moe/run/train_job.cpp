#include "moe/run/train_job.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "moe/core/error.hpp"
#include "moe/core/output_path.hpp"
#include "moe/core/stop_request.hpp"
#include "moe/core/threads.hpp"
#include "moe/h5/hdf5.hpp"
#include "moe/data/spec.hpp"
#include "moe/io/checkpoint.hpp"
#include "moe/io/data_record.hpp"
#include "moe/io/model_io.hpp"
#include "moe/backend/backend_registry.hpp"
#include "moe/models/meta_pi.hpp"
#include "moe/models/sparse_net.hpp"
#include "moe/parallel/mpi_communicator.hpp"

namespace moe {

namespace {

// Reads --expert-models and sets the meta-pi spec's expert count and architecture from them; checks
// that each is an mlp on this run's features and classes.
std::vector<SavedModel> load_expert_models(const TrainJob& job, ModelSpec& spec, const PreparedData& data) {
  std::vector<SavedModel> out;
  if (job.expert_models.empty()) {
    require(!spec.freeze_experts, "--freeze-experts needs --expert-models (experts trained beforehand)");
    return out;
  }
  require(spec.kind == "meta-pi", "--expert-models needs --model meta-pi");
  for (const std::string& path : job.expert_models) {
    require(std::filesystem::exists(path), "expert model file '" + path + "' does not exist");
    h5::File file = h5::File::open(path);
    SavedModel saved = read_model(file);
    const ModelSpec& e = saved.model->spec();
    require(e.kind == "mlp", "expert model " + path + " is a '" + e.kind + "' model, not an mlp");
    require(saved.feature_names == data.train.feature_names,
            "expert model " + path + " was trained on other features than --features");
    require(e.task == spec.task && saved.target_names == data.train.target_names,
            "expert model " + path + " was trained on other classes or targets than this run");
    if (!out.empty()) {
      const ModelSpec& f = out.front().model->spec();
      require(e.hidden == f.hidden && e.activation == f.activation && e.output == f.output,
              "expert model " + path + " has another architecture (hidden, activation, output) than " +
                  job.expert_models.front());
    }
    out.push_back(std::move(saved));
  }
  const ModelSpec& f = out.front().model->spec();
  spec.experts = out.size();
  spec.expert = "mlp";
  spec.hidden = f.hidden;
  spec.activation = f.activation;
  spec.output = f.output;
  return out;
}

// Sparse upcycling: the dense run's weights into the new model (checked to be the same data and sizes).
void upcycle(const TrainJob& job, Model& model, const PreparedData& data) {
  require(job.model.kind == "sparse", "--upcycle-from needs --model sparse");
  require(std::filesystem::exists(job.upcycle_from), "dense model file '" + job.upcycle_from + "' does not exist");
  h5::File file = h5::File::open(job.upcycle_from);
  SavedModel saved = read_model(file);
  require(saved.model->spec().kind == "sparse", "--upcycle-from " + job.upcycle_from + " holds a '" + saved.model->spec().kind +
                                "' model, not a sparse one");
  require(saved.feature_names == data.train.feature_names && saved.target_names == data.train.target_names,
          "--upcycle-from " + job.upcycle_from + " was trained on other features, classes or targets");
  require(arma::approx_equal(saved.standardizer.mean, data.standardizer.mean, "absdiff", 1e-9) &&
              arma::approx_equal(saved.standardizer.scale, data.standardizer.scale, "absdiff", 1e-9),
          "--upcycle-from " + job.upcycle_from + " standardised its inputs differently (another split or data)");
  static_cast<SparseNet&>(model).upcycle_from(*saved.model);  // by parameter names
}

// Expert parallelism: every rank's load and time in collectives per step (P x steps each, rank 0 writing),
// and which experts each rank held. Collective.
void write_rank_routing(h5::File& file, Communicator& comm, const Model& model, const ExpertPlacement& placement) {
  const RoutingLog& log = *model.routing_log();
  const auto P = arma::uword(comm.size()), r = arma::uword(comm.rank()), S = arma::uword(log.rank_load.size());
  require(log.comm_seconds.size() == S, "expert parallelism: the routing log's per-rank series differ in length");
  arma::mat load(P, S, arma::fill::zeros), comm_seconds(P, S, arma::fill::zeros), experts(P, 2, arma::fill::zeros);
  load.row(r) = arma::rowvec(log.rank_load);
  comm_seconds.row(r) = arma::rowvec(log.comm_seconds);
  experts(r, 0) = double(placement.first(r)), experts(r, 1) = double(placement.count(r));
  comm.allreduce_sum(load.memptr(), load.n_elem);
  comm.allreduce_sum(comm_seconds.memptr(), comm_seconds.n_elem);
  comm.allreduce_sum(experts.memptr(), experts.n_elem);
  file.write("routing/rank_load", load);
  file.write("routing/rank_comm_seconds", comm_seconds);
  file.write("routing/rank_experts", experts);
  file.set_attr("routing", "ranks", std::int64_t(P));
}

// Each rank's line: its experts, the share of the routed slots they ran, and its time in collectives.
void print_rank_load(Communicator& comm, const Model& model, const ExpertPlacement& placement) {
  const RoutingLog& log = *model.routing_log();
  double mine = 0.0, total = 0.0, seconds = 0.0;
  for (const double x : log.rank_load) mine += x;
  for (const double x : log.comm_seconds) seconds += x;
  total = mine;
  comm.allreduce_sum(&total, 1);
  const auto r = std::size_t(comm.rank());
  std::fprintf(stderr, "moe-train: rank %zu of %d: experts %zu-%zu ran %.0f routed slots (%.1f %% of all), %.2f s in "
               "collectives\n", r, comm.size(), placement.first(r), placement.first(r) + placement.count(r) - 1, mine,
               total > 0 ? 100.0 * mine / total : 0.0, seconds);
}

// What the data was read with, for moe-eval (/model/data): the target columns, the split as drawn, and
// for text the tokenizer, context and document count.
DataRecord data_record(const TrainJob& job, const PreparedData& data) {
  DataRecord r;
  r.task = to_string(data.train.task);
  if (data.train.task != Task::lm) r.target_columns = split_list(job.data.target);
  r.split_seed = job.data.split_seed ? job.data.split_seed : job.seed;  // the seed run_job draws the split with
  r.valid_fraction = job.data.valid_fraction;
  r.test_fraction = job.data.test_fraction;
  r.missing = job.data.missing;
  if (data.train.task == Task::lm && data.tokenizer != "none") {
    r.tokenizer = data.tokenizer;
    r.context = job.data.lm.context;
    r.max_documents = job.data.lm.max_documents;
  }
  return r;
}

}  // namespace

std::string checkpoint_identity(const std::string& config_toml) {
  static const char* const may_differ[] = {"checkpoint", "checkpoint-every", "resume", "epochs", "threads",
                                           "output", "quiet", "config"};
  std::istringstream in(config_toml);
  std::string line, out;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    std::string key = line.substr(0, eq == std::string::npos ? line.size() : eq);
    key.erase(key.find_last_not_of(" \t") + 1);
    key.erase(0, key.find_first_not_of(" \t"));
    bool skip = false;
    for (const char* k : may_differ) skip = skip || key == k;
    if (!skip) out += line + "\n";
  }
  return out;
}

namespace {

std::string checkpoint_path_of(const TrainJob& job) {
  return job.checkpoint.empty() ? job.output + ".ckpt" : job.checkpoint;
}

// Before anything is read or written: the results file and the checkpoint must not be an input of the
// run (nor each other), and must be paths a file may be written to (moe/core/output_path.hpp).
void refuse_unsafe_outputs(const TrainJob& job) {
  std::vector<NamedPath> inputs{{"--data", job.data.path}, {"--upcycle-from", job.upcycle_from},
                                {"--config", job.info.config_file}};
  for (const std::string& m : job.expert_models) inputs.push_back({"--expert-models", m});
  refuse_output_over_inputs({"--output", job.output}, inputs);
  const std::string checkpoint = checkpoint_path_of(job);
  require(checkpoint != job.output, "--checkpoint must not be the --output file");
  inputs.push_back({"--output", job.output});
  refuse_output_over_inputs({"--checkpoint", checkpoint}, inputs);
  output_target(checkpoint);
}

// The run itself; comm: the ranks of an expert-parallel run (null: one process).
TrainJobResult run_job(const TrainJob& job, Communicator* comm) {
  const bool primary = !comm || comm->rank() == 0;
  if (primary) refuse_unsafe_outputs(job);
  set_threads(job.threads);
  Rng rng(job.seed);
  Rng split_rng = job.data.split_seed ? Rng(job.data.split_seed).stream(1) : rng.stream(1);
  Rng init_rng = rng.stream(2), train_rng = rng.stream(3);

  PreparedData data = prepare_data(job.data, split_rng);
  ModelSpec spec = job.model;
  spec.task = data.train.task;
  spec.inputs = data.train.d();
  spec.outputs = data.train.m();
  TrainOptions train_options = job.train;
  if (spec.task == Task::lm) {  // the vocabulary and tokenizer come from the data; mse means nothing here
    if (spec.kind == "mixture") spec.kind = "lm";  // the default --model: --task lm implies --model lm
    spec.context_vocabulary = data.context_vocabulary;
    spec.tokenizer = data.tokenizer;
    if (train_options.criterion_metric == "mse") train_options.criterion_metric = "perplexity";
    if (spec.moe_layer) spec.sparse.model_dim = spec.hidden;  // the layer works on the encoder's output
  }
  const std::vector<SavedModel> experts = load_expert_models(job, spec, data);
  spec.validate();
  job.train.validate(data.train.is_classification());
  require(job.train.patience == 0 || data.valid.n() > 0,
          "--patience needs a validation split (--valid-groups or --valid-fraction)");
  require(data.train.n() >= spec.expert_count(), "fewer training rows (" + std::to_string(data.train.n()) +
                                                     ") than experts (" + std::to_string(spec.expert_count()) + ")");
  // An unwritable path fails before training; the real file is opened only after training, so an
  // interrupted run leaves no temporary behind. (The probe's temporary is removed as it goes out of scope.)
  if (primary) { h5::File probe = h5::File::create(job.output); }  // rank 0 alone writes it

  std::unique_ptr<Model> model;
  if (comm) {
    spec.validate();
    model = std::make_unique<SparseNet>(spec, layer_backend(spec.sparse), comm);
  } else {
    model = make_model(spec);
  }
  model->init(init_rng);
  for (std::size_t i = 0; i < experts.size(); ++i) {
    // The expert saw inputs standardised with its own statistics: x_i = (raw - mean_i) / scale_i, with
    // raw = x * scale + mean from this run's standardisation.
    const Standardizer& own = experts[i].standardizer;
    const arma::vec input_scale = data.standardizer.scale / own.scale;
    const arma::vec input_shift = (data.standardizer.mean - own.mean) / own.scale;
    static_cast<MetaPi&>(*model).set_expert(i, *experts[i].model, input_scale, input_shift);
  }
  if (!job.upcycle_from.empty()) upcycle(job, *model, data);
  TrainOptions options = train_options;
  if (!primary) options.quiet = true;  // one progress display, rank 0's
  const std::string checkpoint_path = checkpoint_path_of(job);
  FileCheckpointer checkpoint(checkpoint_path, job.checkpoint_every, checkpoint_identity(job.info.config_toml));
  const bool exists = !comm && std::filesystem::exists(checkpoint_path);
  if (job.resume && !exists)
    std::fprintf(stderr, "moe-train: note: no checkpoint at %s; starting from epoch 1\n", checkpoint_path.c_str());
  if (!job.resume && exists)
    std::fprintf(stderr, "moe-train: note: %s exists and will be replaced (--resume continues it)\n",
                 checkpoint_path.c_str());
  // Without --resume the trainer must not find the old checkpoint: it sees a checkpointer that only saves.
  struct SaveOnly final : Checkpointer {
    FileCheckpointer& inner;
    explicit SaveOnly(FileCheckpointer& c) : inner(c) {}
    std::size_t every() const override { return inner.every(); }
    void save(const std::function<void(StateVisitor&)>& visit) override { inner.save(visit); }
    bool restore(const std::function<void(StateVisitor&)>&) override { return false; }
    std::string where() const override { return inner.where(); }
  } save_only(checkpoint);
  Checkpointer* checkpointer = job.resume ? static_cast<Checkpointer*>(&checkpoint) : &save_only;
  if (comm) checkpointer = nullptr;

  TrainJobResult r;
  r.primary = primary;
  r.criterion_set = options.criterion >= 0.0;
  r.train = train(*model, data.train.X, data.train.Y, data.valid.X, data.valid.Y, data.train.is_classification(),
                  options, train_rng, checkpointer);
  if (primary) report_data_warnings(data);  // after training: a refused run prints its one error line alone

  // Expert parallelism: every rank writes the same file up to the commit (the evaluations below are
  // collective), each to a temporary of its own name; only rank 0 commits, the others' are removed.
  h5::File file = h5::File::create(primary ? job.output : job.output + ".rank" + std::to_string(comm->rank()));
  RunInfo info = job.info;
  info.program = "moe-train";
  info.seed = job.seed;
  info.threads = max_threads();
  write_run_info(file, info);
  if (comm) file.set_attr("/", "expert_parallel_ranks", std::int64_t(comm->size()));
  if (comm) {  // rank 0 writes the whole model, gathered from the ranks; the others their own part
    auto& net = static_cast<SparseNet&>(*model);
    const std::unique_ptr<SparseNet> whole = net.whole();
    write_model(file, whole ? *whole : net, data.standardizer, data.train.feature_names, data.train.target_names);
    print_rank_load(*comm, net, net.layer().placement());
  } else {
    write_model(file, *model, data.standardizer, data.train.feature_names, data.train.target_names);
  }
  write_data_record(file, data_record(job, data));
  write_history(file, r.train, train_options);
  if (const RoutingLog* log = model->routing_log()) write_routing(file, *log);
  if (comm) write_rank_routing(file, *comm, *model, static_cast<SparseNet&>(*model).layer().placement());
  file.write("split/train_groups", data.split.train_groups);
  file.write("split/valid_groups", data.split.valid_groups);
  file.write("split/test_groups", data.split.test_groups);
  r.train_metrics = write_eval(file, "train", *model, data.train);
  if ((r.has_valid = data.valid.n() > 0)) r.valid_metrics = write_eval(file, "valid", *model, data.valid);
  if ((r.has_test = data.test.n() > 0)) r.test_metrics = write_eval(file, "test", *model, data.test);
  if (!primary) return r;
  file.commit();
  if (r.train.resumed_epoch > 0)
    std::fprintf(stderr, "moe-train: note: resumed from %s in epoch %zu%s\n", checkpoint_path.c_str(),
                 r.train.resumed_epoch,
                 r.train.resumed_rows > 0 ? (" after " + std::to_string(r.train.resumed_rows) + " of its rows").c_str()
                                          : "");
  // The results are complete: the checkpoint of this run has nothing left to resume.
  if (checkpoint.saves() > 0 || (job.resume && exists)) std::filesystem::remove(checkpoint_path);
  // A stop asked for after the last step is not honoured: evaluating and writing were nearly done, and
  // finishing them is what the user would want; but say so (a second signal would have ended it at once).
  if (const int sig = stop_signal())
    std::fprintf(stderr, "moe-train: note: %s came after training had finished; the results were written in full\n",
                 signal_name(sig).c_str());
  return r;
}

}  // namespace

TrainJobResult run_train_job(const TrainJob& job) {
  require(!job.output.empty(), "no output file given (--output)");
  if (!job.expert_parallel) return run_job(job, nullptr);
  require(job.model.kind == "sparse", "--expert-parallel needs --model sparse (got '" + job.model.kind + "')");
  require(job.checkpoint_every == 0 && !job.resume && job.checkpoint.empty(),
          "--expert-parallel runs take no checkpoints (--checkpoint-every, --checkpoint, --resume)");
  require(job.train.l2 == 0.0, "--l2 does not apply with --expert-parallel (each process holds only its experts)");
  // The layer's settings (--device cuda without CUDA, an unknown router, ...) fail here, one line on each
  // rank, rather than inside the run, where an error ends the job through MPI_Abort.
  job.model.sparse.validate(job.model.experts);
  MpiSession mpi;
  const std::unique_ptr<Communicator> comm = make_world_communicator();
  try {
    return run_job(job, comm.get());
  } catch (const std::exception& e) {
    // An error on one rank alone (a file it cannot write, memory, a message too large for MPI) would leave
    // the others waiting in a collective for ever: say it, then end every rank of the job.
    const bool memory = dynamic_cast<const std::bad_alloc*>(&e) != nullptr;
    std::fprintf(stderr, "moe-train: error: %s (rank %d of %d; ending every rank)\n", memory ? "out of memory" : e.what(),
                 comm->rank(), comm->size());
    std::fflush(stderr);
    MpiSession::abort(1);
  }
}

std::string summarize(const TrainJobResult& r, const ModelSpec& spec) {
  char buf[512];
  std::string out;
  auto line = [&](const char* name, const Metrics& m) {
    if (m.perplexity >= 0) std::snprintf(buf, sizeof buf, "%-6s loss %.5f  perplexity %.3f", name, m.loss, m.perplexity);
    else std::snprintf(buf, sizeof buf, "%-6s loss %.5f  mse %.5f", name, m.loss, m.mse);
    out += buf;
    if (m.accuracy >= 0) {
      std::snprintf(buf, sizeof buf, "  accuracy %.4f", m.accuracy);
      out += buf;
    }
    out += "\n";
  };
  std::snprintf(buf, sizeof buf, "epochs %zu, ", r.train.history.epoch.size());
  out += buf;
  if (r.criterion_set && r.train.criterion_epoch >= 0) {
    std::snprintf(buf, sizeof buf, "criterion reached at epoch %ld, ", r.train.criterion_epoch);
    out += buf;
  } else if (r.criterion_set) {
    out += "criterion not reached, ";
  }
  std::snprintf(buf, sizeof buf, "%.3f s of updates\n", r.train.seconds);
  out += buf;
  line("train", r.train_metrics);
  if (r.has_valid) line("valid", r.valid_metrics);
  if (r.has_test) line("test", r.test_metrics);
  if (spec.kind == "mixture" || spec.kind == "meta-pi") {
    out += "mixing proportions:";
    for (double u : r.train_metrics.usage) {
      std::snprintf(buf, sizeof buf, " %.3f", u);
      out += buf;
    }
    out += "\n";
  }
  return out;
}

}  // namespace moe
