#pragma once
// moe-train's flags, shared by the app and by the config-file fuzz target (tests/fuzz), so that the fuzzer
// parses exactly what `moe-train --config FILE` parses.
#include "cli_common.hpp"
#include "lm_options.hpp"
#include "sparse_options.hpp"
#include "moe/experts/expert_registry.hpp"
#include "moe/gates/gate_registry.hpp"
#include "moe/models/model_registry.hpp"
#include "moe/run/train_job.hpp"
#include "moe/train/optimizer_registry.hpp"
#include "moe/train/trainer_registry.hpp"

#include <algorithm>
#include <functional>
#include <map>

namespace moe::cli {

// `--list KIND` prints the registered entries of one kind with their one-line help and exits 0 (before the
// required flags are checked, as --help does).
inline void add_list_option(CLI::App& app) {
  static const std::map<std::string, std::function<std::string()>> kinds{
      {"models", [] { return ModelRegistry::instance().listing(); }},
      {"routers", [] { return RouterRegistry::instance().listing(); }},
      {"experts", [] { return ExpertRegistry::instance().listing(); }},
      {"gates", [] { return GateRegistry::instance().listing(); }},
      {"trainers", [] { return TrainerRegistry::instance().listing(); }},
      {"optimizers", [] { return OptimizerRegistry::instance().listing(); }},
  };
  std::vector<std::string> names;
  for (const auto& [name, list] : kinds) names.push_back(name);
  app.add_option_function<std::string>(
         "--list",
         [](const std::string& what) {
           std::fputs(kinds.at(what)().c_str(), stdout);
           throw CLI::Success();
         },
         "Print the registered entries of one kind with a line of help each, and exit: " + or_list(names))
      ->check(CLI::IsMember(names))
      ->configurable(false);  // a command, not a setting: a `list` key in a config file is an unknown key
}

// Every moe-train flag into `job`; --fixed-variance into `fixed_variance` (finish_train_job applies it).
inline void add_train_options(CLI::App& app, moe::TrainJob& job, bool& fixed_variance) {
  moe::cli::last_value_wins(app);
  moe::cli::add_config_option(app);
  moe::cli::add_list_option(app);
  moe::cli::add_data_options(app, job.data, true);
  moe::cli::add_split_options(app, job.data);

  auto& m = job.model;
  app.add_option("--model", m.kind, "The model (`--list models` says what each does): " +
                                        ModelRegistry::instance().choices())
      ->capture_default_str()
      ->check(CLI::IsMember(ModelRegistry::instance().names()));
  app.add_option("--experts", m.experts, "Number of experts: mixture K (hme: branching^depth); sparse: "
                                               "routed experts E; lm: MoS/MoC components K, or with "
                                               "--moe-layer the layer's routed experts")->capture_default_str();
  app.add_option("--expert", m.expert, "Mixture, hme: the expert kind (`--list experts`): " +
                                           ExpertRegistry::instance().choices() + "; meta-pi: mlp (--hidden/--activation/"
                                           "--mlp-output) or softmax. With --task regression the default is "
                                           "linear-gaussian (meta-pi: mlp)")
      ->capture_default_str();
  app.add_flag("--fixed-variance", fixed_variance, "Mixture: linear-gaussian experts keep unit variance");
  path_option(trimmed_items(app.add_option("--expert-models", job.expert_models,
                                           "Meta-pi: moe-train result files of mlp models on the same features "
                                           "and classes, one per expert (comma-separated); they set --experts and "
                                           "the experts' architecture and weights")
                                ->delimiter(',')));
  app.add_flag("--freeze-experts", m.freeze_experts, "Meta-pi: train the gate alone; the --expert-models keep "
                                                     "their weights");
  app.add_option("--gate", m.gate, "Mixture, hme, meta-pi: the gate (`--list gates`): " +
                                        GateRegistry::instance().choices())
      ->capture_default_str()
      ->check(CLI::IsMember(GateRegistry::instance().names()));
  app.add_option("--gate-init-scale", m.gate_init_scale, "Mixture: std of the gate's initial weights (0: uniform "
                                                         "gate)")
      ->capture_default_str();
  app.add_flag("--hard", m.hard, "Hard MoE (mixture, hme): only the most probable expert, in training (Viterbi "
                                 "complete-data likelihood; EM becomes hard EM) and in prediction");
  app.add_option("--depth", m.depth, "HME: depth of the tree (experts = branching^depth)")->capture_default_str();
  app.add_option("--branching", m.branching, "HME: children of every gate")->capture_default_str();
  app.add_option("--hidden", m.hidden, "MLP: hidden units")->capture_default_str();
  app.add_option("--activation", m.activation, "MLP: tanh, sigmoid or relu")->capture_default_str();
  app.add_option("--mlp-output", m.output, "MLP: softmax (cross-entropy), sigmoid or linear (squared error); "
                                           "with --task regression the default is linear")
      ->capture_default_str();
  trimmed_items(app.add_option("--layer-experts", m.layer_experts, "Deep: experts of each mixture layer, "
                                                                  "comma-separated (one entry per layer)")
                    ->delimiter(','))
      ->capture_default_str();
  app.add_option("--expert-hidden", m.expert_hidden, "Deep: output units of every expert, relu(W z + b)")
      ->capture_default_str();
  app.add_option("--gate-hidden", m.gate_hidden, "Deep: hidden ReLU units of every gate")->capture_default_str();
  app.add_option("--balance-margin", m.balance_margin, "Deep: balancing margin m: while an expert's running sum "
                                                       "of gate outputs exceeds the layer's mean sum by more "
                                                       "than m, its gate output is set to 0 and the rest "
                                                       "renormalised (in training steps only)")
      ->capture_default_str();
  app.add_option("--balance-epochs", m.balance_epochs, "Deep: epochs trained with the balancing constraint; "
                                                       "later epochs fine-tune without it (0: off)")
      ->capture_default_str();

  moe::cli::add_lm_model_options(app, m);
  moe::cli::add_sparse_model_options(app, m.sparse);
  path_option(app.add_option("--upcycle-from", job.upcycle_from, "Sparse: a moe-train result of a dense --model sparse run "
                                                     "(--experts 1): its embedding, output layer and FFN start "
                                                     "this run, the FFN copied into every expert, the router "
                                                     "fresh (sparse upcycling)"));
  app.add_flag("--expert-parallel", job.expert_parallel, "Sparse: spread the experts over the processes of "
                                                         "`mpirun -np P moe-train ...` (E / P each, tokens "
                                                         "exchanged all-to-all); the results equal a "
                                                         "one-process run's, rank 0 writes them");
  moe::cli::add_lm_data_options(app, job.data.lm, false);

  auto& t = job.train;
  app.add_option("--trainer", t.method, "How to train (`--list trainers`): " + TrainerRegistry::instance().choices())
      ->capture_default_str()
      ->check(CLI::IsMember(TrainerRegistry::instance().names()));
  app.add_option("--forgetting", t.online.lambda0, "online-em: initial forgetting factor lambda of the "
                                                  "RLS updates; every 1000 observations it moves 0.6 of its "
                                                  "gap to 1 (Jordan & Jacobs 1994)")
      ->capture_default_str();
  app.add_option("--gate-fit", t.em.gate_fit, "EM: gate M-step by irls (Newton on the posteriors) or "
                                              "least-squares (Jordan & Jacobs 1994 Algorithm 2)")
      ->capture_default_str();
  app.add_flag("--hard-em", t.em.hard, "EM: hard (Viterbi) assignments instead of posteriors");
  app.add_option("--irls-iterations", t.em.irls.max_iterations, "EM: Newton steps per gate/softmax M-step")
      ->capture_default_str();
  app.add_option("--irls-ridge", t.em.irls.ridge, "EM: relative damping of the IRLS Hessian")
      ->capture_default_str();
  app.add_option("--tolerance", t.tolerance, "Stop when the training loss changes by less than this (relative) "
                                             "between epochs; 0: off")
      ->capture_default_str();
  app.add_option("--l2", t.l2, "Gradient and EM training: L2 penalty (l2/2)|W|^2 on the gates' and experts' weight "
                               "matrices (not biases or variances), added to the mean loss: a Gaussian prior "
                               "that keeps EM's softmax experts from saturating at probabilities of 0; 0: off")
      ->capture_default_str();
  app.add_option("--divergence-factor", t.divergence_factor,
                 "Gradient training: stop with an error when an epoch's training loss exceeds the first epoch's L1 by "
                 "more than this times max(1, |L1|) (a non-finite loss always stops, with any trainer); 0: off")
      ->capture_default_str();
  app.add_option("--optimizer", t.optimizer.name, "Gradient trainer: the optimiser (`--list optimizers`): " +
                                                      OptimizerRegistry::instance().choices())
      ->capture_default_str()
      ->check(CLI::IsMember(OptimizerRegistry::instance().names()));
  app.add_option("--learning-rate,--lr", t.optimizer.learning_rate, "Step size")->capture_default_str();
  app.add_option("--momentum", t.optimizer.momentum, "Momentum coefficient in [0, 1)")->capture_default_str();
  app.add_option("--beta1", t.optimizer.beta1, "Adam beta1")->capture_default_str();
  app.add_option("--beta2", t.optimizer.beta2, "Adam beta2")->capture_default_str();
  app.add_option("--epochs", t.epochs, "Maximum number of passes over the training set")->capture_default_str();
  app.add_option("--batch-size", t.batch_size, "Minibatch size (0: full batch)")->capture_default_str();
  app.add_option("--patience", t.patience, "Early stopping: epochs without validation-loss improvement before "
                                           "stopping and restoring the best weights (0: off; needs a validation "
                                           "split)")
      ->capture_default_str();
  app.add_option("--criterion-metric", t.criterion_metric, "Metric for --criterion, on the training set: mse "
                                                           "(mean squared error per output), error (1 - "
                                                           "accuracy) or loss")
      ->capture_default_str();
  app.add_option("--criterion", t.criterion, "Stop when the training metric is <= this value and record the "
                                             "epoch (negative: off)")
      ->capture_default_str();
  app.add_flag("!--no-stop-at-criterion", t.stop_at_criterion, "Record the criterion epoch but keep training");

  app.add_option("--seed", job.seed, "Random seed: fixes the split, the initial weights and the minibatch order")
      ->capture_default_str();
  app.add_option("--threads", job.threads, "Threads of the library's OpenMP loops (0: all cores); BLAS calls run single-threaded")
      ->capture_default_str();
  path_option(app.add_option("-o,--output", job.output, "Results file to write (HDF5)"))->required();
  app.add_flag("-q,--quiet", t.quiet, "No progress bar or summary");
  app.add_option("--checkpoint-every", job.checkpoint_every, "Write a checkpoint every N epochs (0: only when "
                                                             "stopped by SIGINT or SIGTERM, which always writes "
                                                             "one and exits with 128 + the signal number)")
      ->capture_default_str();
  path_option(app.add_option("--checkpoint", job.checkpoint, "Checkpoint file (default: the --output path + "
                                                              ".ckpt); removed when the results file is written"));
  app.add_flag("--resume", job.resume, "Continue from the checkpoint when there is one (same flags; --epochs "
                                       "may be raised); the results equal an uninterrupted run's");

  moe::cli::check_number_options(app);
}

// After parsing: what the flags imply and the checks that need several flags at once. A flag that the
// chosen model, router, trainer or optimiser does not read is refused, naming both (the registries say
// who reads what): any written on the command line (`command_line`, from command_line_flags), and those a
// --config file sets to something other than the default.
inline void finish_train_job(CLI::App& app, moe::TrainJob& job, bool fixed_variance,
                             const std::vector<std::string>& command_line = {}) {
  auto& m = job.model;
  auto& t = job.train;
  m.learn_variance = !fixed_variance;
  // --task lm runs the language model where --model is left at mixture (as run_train_job does for library
  // callers); recorded_config then writes model="lm".
  if (job.data.task == "lm" && m.kind == "mixture") {
    m.kind = "lm";
    if (app.count("--model") == 0) app.get_option("--model")->default_str("lm");
  }
  auto given = [&](const std::vector<std::string>& names) { return given_flags(app, names, command_line); };
  if (m.moe_layer && !given({"d-model"}).empty())
    throw moe::UsageError("--moe-layer works on the encoder's output: its width is --hidden, not --d-model");
  const ModelRegistry& models = ModelRegistry::instance();
  models.reject_unused(m.kind, given(models.flags()), "--model");
  const std::vector<std::string> layer_flags = given(sparse_layer_flags());
  if (m.kind == "lm" && !m.moe_layer && !layer_flags.empty())
    throw moe::UsageError("--" + layer_flags.front() + " needs --moe-layer");
  const auto& model_flags = model_entry(m.kind).flags;
  if (std::find(model_flags.begin(), model_flags.end(), "router") != model_flags.end())
    moe::cli::reject_unused_sparse_flags(app, m.sparse, command_line);
  const TrainerRegistry& trainers = TrainerRegistry::instance();
  trainers.reject_unused(t.method, given(trainers.flags()), "--trainer");
  const OptimizerRegistry& optimizers = OptimizerRegistry::instance();
  optimizers.reject_unused(t.optimizer.name, given(optimizers.flags()), "--optimizer");
  if (job.data.task == "lm" && !given({"missing"}).empty())
    throw moe::UsageError("--missing does not apply to --task lm (a corpus has no cells)");
  // Defaults that follow the task (after the checks above, which compare with the defaults as declared):
  // regression has no softmax, so with --task regression a mixture's or hme's --expert left out is
  // linear-gaussian (meta-pi's: mlp), and an --mlp-output left out is linear. The options' default text
  // follows, so that /config records the value the run used.
  if (job.data.task == "regression") {
    auto reads = [&](const std::string& flag) {
      return std::find(model_flags.begin(), model_flags.end(), flag) != model_flags.end();
    };
    CLI::Option* expert = app.get_option("--expert");
    if (reads("expert") && expert->count() == 0 && job.expert_models.empty()) {
      m.expert = m.kind == "meta-pi" ? "mlp" : "linear-gaussian";
      expert->default_str(m.expert);
    }
    CLI::Option* output = app.get_option("--mlp-output");
    if (reads("mlp-output") && output->count() == 0) {
      m.output = "linear";
      output->default_str(m.output);
    }
  }
}

// The flags of the TOML text that /config records: every option with a value (given or defaulted) that the
// chosen model, router, trainer and optimiser read, so that `moe-train --config` on it runs the same job
// again. Options without a value, and flags another entry reads, are marked not configurable and left out;
// flags given appear as "name=true".
// Call after finish_train_job.
inline std::string recorded_config(CLI::App& app, const moe::TrainJob& job) {
  std::vector<std::string> unused;
  auto add_unread = [&](const auto& registry, const std::string& name) {
    const auto& read = registry.get(name, "").flags;
    for (const std::string& f : registry.flags())
      if (std::find(read.begin(), read.end(), f) == read.end()) unused.push_back(f);
  };
  add_unread(ModelRegistry::instance(), job.model.kind);
  const auto& model_flags = model_entry(job.model.kind).flags;
  const bool has_layer = std::find(model_flags.begin(), model_flags.end(), "router") != model_flags.end() &&
                         (job.model.kind != "lm" || job.model.moe_layer);
  if (has_layer) add_unread(RouterRegistry::instance(), job.model.sparse.router);
  else unused.insert(unused.end(), sparse_layer_flags().begin(), sparse_layer_flags().end());
  add_unread(TrainerRegistry::instance(), job.train.method);
  add_unread(OptimizerRegistry::instance(), job.train.optimizer.name);
  if (job.data.task == "lm") unused.push_back("missing");  // a corpus has no cells
  // Flags (options without a value) are written here, "name=true" when set: CLI11 writes a negated flag
  // given as --no-standardize as "no-standardize=false", which reads back as not set. A flag whose value
  // is not what the bare flag gives (hard = false) is at its default and left out.
  std::string given_flags_text;
  for (CLI::Option* o : app.get_options()) {
    const std::string flag = o->get_lnames().empty() ? std::string() : o->get_lnames().front();
    const bool unread = std::find(unused.begin(), unused.end(), flag) != unused.end();
    if (o->get_items_expected_max() == 0) {  // a flag
      const bool set = o->count() > 0 && o->as<std::string>() == o->get_flag_value(flag, "");
      if (set && !unread && o->get_configurable() && !flag.empty()) given_flags_text += flag + "=true\n";
      o->configurable(false);
      continue;
    }
    const bool valueless = o->count() == 0 && o->get_default_str().empty();
    if (valueless || unread) o->configurable(false);
  }
  return app.config_to_str(true, false) + given_flags_text;
}

}  // namespace moe::cli
