#include "moe/train/trainer.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "moe/core/error.hpp"
#include "moe/core/stop_request.hpp"
#include "moe/core/warning.hpp"
#include "moe/models/backend_training.hpp"
#include "moe/models/hierarchical.hpp"
#include "moe/train/metrics.hpp"
#include "moe/train/progress.hpp"
#include "moe/train/trainer_registry.hpp"

namespace moe {

void TrainOptions::validate(bool classification) const {
  TrainerRegistry::instance().get(method, "--trainer");  // one line naming the registered trainers
  require(method == "em" || (!em.hard && em.gate_fit == "irls"),
          "--hard-em and --gate-fit apply to --trainer em only");
  if (method == "em") em.validate();
  else if (method == "online-em") online.validate();
  else optimizer.validate();
  require(tolerance >= 0.0, "--tolerance must not be negative");
  require(std::isfinite(l2) && l2 >= 0.0, "--l2 must be a finite number >= 0");
  require(!(l2 > 0.0 && method == "em" && em.gate_fit == "least-squares"),
          "--l2 does not apply to --gate-fit least-squares (that gate fit is a least-squares fit to log posteriors, "
          "not a likelihood the penalty could be added to; use --gate-fit irls)");
  require(std::isfinite(divergence_factor) && divergence_factor >= 0.0,
          "--divergence-factor must be a finite number >= 0 (0: off)");
  require(!std::isnan(criterion), "--criterion must be a number (negative: off), not NaN");
  require(epochs >= 1, "--epochs must be at least 1");
  require(criterion_metric == "loss" || criterion_metric == "mse" || criterion_metric == "error" ||
              criterion_metric == "perplexity",
          "unknown criterion metric '" + criterion_metric + "' (expected loss, mse, error or perplexity)");
  require(classification || criterion_metric != "error", "the criterion metric 'error' needs a classification task");
}

namespace {

// Where the loop is and what it has gathered: everything of train() that a checkpoint must hold besides
// the model, the optimiser and the generator.
struct LoopState {
  std::size_t epoch = 1;       // the epoch in progress (1-based)
  // Within a minibatch epoch stopped part-way: the epoch's column order (N, drawn at its start), the
  // first position of it not yet stepped on (0: the epoch has not started), and the epoch's sums so far.
  arma::mat order;             // 1 x N (column indices as doubles: exact below 2^53)
  std::size_t next = 0;
  double loss_sum = 0.0, seconds = 0.0;
  TrainResult result;
  std::vector<arma::vec> usage;
  double best_valid = arma::datum::inf;
  double initial_mse = -1.0;   // the training mse before the first step (-1: none), for the divergence check
  arma::mat best_values;       // flattened state of the best validation epoch (empty: none yet)
  std::size_t since_best = 0;

  void visit(StateVisitor& v) {
    v.size("loop/epoch", epoch);
    v.matrix("loop/order", order);
    v.size("loop/next", next);
    v.real("loop/loss_sum", loss_sum);
    v.real("loop/seconds", seconds);
    History& h = result.history;
    v.reals("history/epoch", h.epoch);
    v.reals("history/loss", h.loss);
    v.reals("history/train_metric", h.train_metric);
    v.reals("history/train_accuracy", h.train_accuracy);
    v.reals("history/valid_loss", h.valid_loss);
    v.reals("history/valid_accuracy", h.valid_accuracy);
    v.reals("history/seconds", h.seconds);
    v.columns("history/usage", usage);
    v.signed_count("result/criterion_epoch", result.criterion_epoch);
    v.signed_count("result/best_epoch", result.best_epoch);
    v.real("result/seconds", result.seconds);
    v.real("best/valid_loss", best_valid);
    v.real("loop/initial_mse", initial_mse);
    v.matrix("best/values", best_values);
    v.size("best/since", since_best);
  }
};

std::string stop_message(int signal_number, const LoopState& loop, const Checkpointer* checkpoint) {
  std::string where = "epoch " + std::to_string(loop.epoch);
  if (loop.next > 0) where += " (after " + std::to_string(loop.next) + " of " + std::to_string(loop.order.n_elem) + " rows)";
  return "stopped by " + signal_name(signal_number) + " in " + where +
         (checkpoint ? "; checkpoint written to " + checkpoint->where() + ": rerun with --resume to continue"
                     : "; no checkpoint was kept");
}

}  // namespace

TrainResult train(Model& model, const arma::mat& X, const arma::mat& Y, const arma::mat& valid_X,
                  const arma::mat& valid_Y, bool classification, const TrainOptions& options, Rng& rng,
                  Checkpointer* checkpoint) {
  options.validate(classification);
  ParamList params, state;
  model.collect(params);
  model.collect_state(state);  // early stopping restores all of it (e.g. the loss-free router's bias)
  const bool use_em = options.method == "em";
  EmTrainable* em = use_em ? model.em() : nullptr;
  require(!use_em || em != nullptr, "--trainer em needs a model EM can train: a mixture, or an hme of linear gates "
                                    "(got --model " + model.spec().kind + " with --gate " + model.spec().gate + ")");
  const bool use_online = options.method == "online-em";
  auto* tree = dynamic_cast<HierarchicalMixture*>(&model);
  require(!use_online || tree != nullptr, "--trainer online-em needs --model hme (a flat mixture is --depth 1)");
  require(!use_online || !model.spec().hard, "--hard is not supported by --trainer online-em (use --trainer em)");
  std::unique_ptr<OnlineHmeRls> online =
      use_online ? std::make_unique<OnlineHmeRls>(*tree, X.n_rows, options.online) : nullptr;
  auto opt = (use_em || use_online) ? nullptr : make_optimizer(options.optimizer);
  // A model on a compute backend steps itself, its optimiser state (and --l2) in the backend's memory.
  BackendTraining* on_backend = opt ? model.backend_training() : nullptr;
  if (on_backend) {
    const OptimizerOptions& o = options.optimizer;
    on_backend->start({o.name, o.learning_rate, o.name == "adam" ? 0.0 : o.momentum, o.beta1, o.beta2, o.epsilon,
                       options.l2});
    on_backend->set_data(X, Y);  // once: minibatches are gathered on the backend
  }
  const bool has_valid = valid_X.n_cols > 0;
  const arma::uword n = X.n_cols;
  const bool minibatch = !use_em && !use_online && options.batch_size > 0 && options.batch_size < n;

  LoopState loop;
  // Everything a checkpoint holds, named once for saving and restoring alike.
  auto visit_all = [&](StateVisitor& v) {
    for (const Param& p : state) v.matrix("model/params/" + p.name, *p.value);
    model.visit_state(v, "model/state/");
    if (on_backend) on_backend->visit_optimizer_state(v, "optimizer/");  // the same layout as opt's
    else if (opt) opt->visit_state(v, "optimizer/");
    if (online) online->visit_state(v, "online_em/");
    rng.visit_state(v, "rng");
    loop.visit(v);
  };
  if (checkpoint && checkpoint->restore(visit_all)) {
    require(loop.order.n_elem == 0 || (minibatch && loop.order.n_elem == n),
            "checkpoint " + checkpoint->where() + " stopped inside a minibatch epoch of another size");
    require(loop.next == 0 || loop.next < loop.order.n_elem,
            "checkpoint " + checkpoint->where() + " resumes at row " + std::to_string(loop.next) +
                (loop.order.n_elem ? " of an epoch of " + std::to_string(loop.order.n_elem) + " rows"
                                   : " of an epoch but holds no minibatch order"));
    require(loop.epoch >= 1, "checkpoint " + checkpoint->where() + " names epoch 0 (epochs count from 1)");
    if (loop.order.n_elem > 0) {  // a permutation of the rows, or the minibatches would index outside X
      std::vector<char> seen(n, 0);
      bool permutation = true;
      for (const double v : loop.order) {
        const bool index = v >= 0.0 && v < double(n) && v == std::floor(v);
        permutation = permutation && index && !seen[arma::uword(v)];
        if (!permutation) break;
        seen[arma::uword(v)] = 1;
      }
      require(permutation, "checkpoint " + checkpoint->where() + ": its minibatch order is not a permutation of the " +
                               std::to_string(n) + " rows");
    }
    require(loop.epoch - (loop.next > 0 ? 0 : 1) <= options.epochs,
            "checkpoint " + checkpoint->where() + " has trained " + std::to_string(loop.epoch - 1) +
                " epochs already; --epochs " + std::to_string(options.epochs) + " would end before it");
    loop.result.resumed_epoch = loop.epoch;
    loop.result.resumed_rows = loop.next;
  }
  if (on_backend) on_backend->from_host();  // parameters restored from a checkpoint, if any
  // Saves, then throws moe::Stopped, when a stop was requested; called between steps only.
  auto honour_stop = [&] {
    const int signal_number = stop_signal();
    if (signal_number == 0) return;
    if (on_backend && checkpoint) {
      on_backend->add_loss_sums(loop.loss_sum);  // the epoch's loss so far goes into the checkpoint
      on_backend->to_host();
    }
    if (checkpoint) checkpoint->save(visit_all);
    throw Stopped(signal_number, stop_message(signal_number, loop, checkpoint));
  };

  TrainResult& result = loop.result;
  History& h = result.history;
  ProgressBar bar("train", options.epochs, options.quiet);

  // The untrained model's training mse, the reference of the mse divergence check (gradient training of a
  // model with an mse: not a language model). A resumed run has it from its checkpoint.
  if (loop.epoch == 1 && loop.next == 0 && opt && options.divergence_factor > 0.0 && model.spec().task != Task::lm)
    loop.initial_mse = evaluate(model, X, Y, classification).mse;
  for (; loop.epoch <= options.epochs; ++loop.epoch) {
    const std::size_t epoch = loop.epoch;
    honour_stop();
    auto t0 = std::chrono::steady_clock::now();
    auto seconds_since = [&](std::chrono::steady_clock::time_point& from) {
      const auto now = std::chrono::steady_clock::now();
      const double s = std::chrono::duration<double>(now - from).count();
      from = now;
      return s;
    };
    double epoch_loss;
    if (use_em) {
      // The penalised log-likelihood per observation; like the log-likelihood, the penalty is that of the
      // parameters before the step. The M-steps see the penalty of the summed objective.
      const double penalty = params.l2_penalty(options.l2, false);
      EmOptions em_options = options.em;
      em_options.irls.l2 = options.l2 * double(n);
      epoch_loss = -em->em_step(X, Y, em_options) / double(n) + penalty;
    } else if (use_online) {
      online->epoch(X, Y, rng);
      epoch_loss = model.loss(X, Y, false);  // after the pass: the on-line updates have no batch loss
    } else if (on_backend && !minibatch) {
      on_backend->step(X, Y);
      double sum = 0.0;
      on_backend->add_loss_sums(sum);
      epoch_loss = sum / double(n);
    } else if (!minibatch) {
      params.zero_grad();
      epoch_loss = model.loss(X, Y, true) + params.l2_penalty(options.l2, true);
      opt->step(params);
      model.end_step();
    } else {
      // The mean training loss of the epoch, each batch's loss taken before its update.
      if (loop.next == 0) loop.order = arma::conv_to<arma::mat>::from(arma::urowvec(rng.permutation(n).t()));
      while (loop.next < n) {
        const arma::uword start = loop.next, stop = std::min<arma::uword>(n, start + options.batch_size);
        const arma::uvec idx = arma::conv_to<arma::uvec>::from(loop.order.cols(start, stop - 1));
        const arma::mat bx = on_backend ? arma::mat() : arma::mat(X.cols(idx)), by = on_backend ? arma::mat() : arma::mat(Y.cols(idx));
        if (on_backend) {
          on_backend->step_on(idx);
        } else {
          params.zero_grad();
          loop.loss_sum += (model.loss(bx, by, true) + params.l2_penalty(options.l2, true)) * double(idx.n_elem);
          opt->step(params);
          model.end_step();
        }
        loop.next = stop;
        if (loop.next < n && stop_signal() != 0) {
          loop.seconds += seconds_since(t0);
          honour_stop();
        }
      }
      if (on_backend) on_backend->add_loss_sums(loop.loss_sum);  // the epoch's one read-back
      epoch_loss = loop.loss_sum / double(n);
      loop.order.reset();
      loop.next = 0;
      loop.loss_sum = 0.0;
    }
    model.end_epoch(epoch);
    const double step_seconds = loop.seconds + seconds_since(t0);
    loop.seconds = 0.0;
    result.seconds += step_seconds;
    const std::string remedy = use_em || use_online ? "; check the data for outliers, or add --l2"
                                                    : "; lower --learning-rate, or add --l2";
    require(std::isfinite(epoch_loss),
            "training diverged at epoch " + std::to_string(epoch) + " (loss is not finite)" + remedy);
    // Growth is checked in gradient training, where a step size too large makes the loss explode. EM's
    // objective cannot grow in exact arithmetic (its loss history is tested monotone), so there only the
    // non-finite check applies.
    if (options.divergence_factor > 0.0 && !use_em && !use_online && !h.loss.empty()) {
      const double first = h.loss.front();
      char what[160];
      std::snprintf(what, sizeof what, " (loss %.6g, first epoch %.6g)", epoch_loss, first);
      require(epoch_loss <= first + options.divergence_factor * std::max(1.0, std::abs(first)),
              "training diverged at epoch " + std::to_string(epoch) + what + remedy +
                  " (--divergence-factor 0 turns this check off)");
    }

    const Metrics train_m = evaluate(model, X, Y, classification);
    // A regression likelihood with a learned variance can keep its loss bounded while the mean runs away
    // (the variance absorbs the error, up to its ceiling): the predictions' mse is checked too.
    if (options.divergence_factor > 0.0 && !use_em && !use_online && loop.initial_mse >= 0.0 &&
        std::isfinite(loop.initial_mse)) {
      char what[160];
      std::snprintf(what, sizeof what, " (training mse %.6g, before training %.6g)", train_m.mse, loop.initial_mse);
      require(std::isfinite(train_m.mse) &&
                  train_m.mse <= loop.initial_mse + options.divergence_factor * std::max(1.0, loop.initial_mse),
              "training diverged at epoch " + std::to_string(epoch) + what + remedy +
                  " (--divergence-factor 0 turns this check off)");
    }
    if (train_m.min_probability == 0.0)
      warn("zero-probability", "epoch " + std::to_string(epoch) + ": the model gives some class a probability of "
           "exactly 0 at a training point (a saturated softmax whose weights keep growing); a held-out point of "
           "that class gets a huge or infinite loss. --l2 adds a penalty that keeps the weights finite");
    h.epoch.push_back(double(epoch));
    h.loss.push_back(epoch_loss);
    h.train_metric.push_back(train_m.value(options.criterion_metric));
    h.train_accuracy.push_back(train_m.accuracy);
    h.seconds.push_back(step_seconds);
    loop.usage.push_back(train_m.usage);

    if (has_valid) {
      const Metrics vm = evaluate(model, valid_X, valid_Y, classification);
      h.valid_loss.push_back(vm.loss);
      h.valid_accuracy.push_back(vm.accuracy);
      if (vm.loss < loop.best_valid) {
        loop.best_valid = vm.loss;
        result.best_epoch = long(epoch);
        if (on_backend) on_backend->to_host();
        loop.best_values = state.values();
        loop.since_best = 0;
      } else {
        ++loop.since_best;
      }
    }

    char status[128];
    std::snprintf(status, sizeof status, "loss %.4f %s %.4f", epoch_loss, options.criterion_metric.c_str(),
                  h.train_metric.back());
    bar.update(epoch, status);

    if (result.criterion_epoch < 0 && options.criterion >= 0.0 && h.train_metric.back() <= options.criterion) {
      result.criterion_epoch = long(epoch);
      if (options.stop_at_criterion) break;
    }
    // Converged: the loss of this epoch (before its update) changed from the last by less than tolerance.
    const std::size_t e = h.loss.size();
    if (options.tolerance > 0.0 && e >= 2 &&
        std::abs(h.loss[e - 2] - h.loss[e - 1]) < options.tolerance * std::max(1.0, std::abs(h.loss[e - 1]))) {
      result.converged_epoch = long(epoch);
      break;
    }
    if (has_valid && options.patience > 0 && loop.since_best >= options.patience) {
      result.stopped_early = true;
      break;
    }
    if (epoch < options.epochs && checkpoint && checkpoint->every() > 0 && epoch % checkpoint->every() == 0) {
      ++loop.epoch;  // the checkpoint resumes with the next epoch
      if (on_backend) on_backend->to_host();
      checkpoint->save(visit_all);
      --loop.epoch;
    }
  }
  bar.finish();
  // Early stopping keeps the weights of the best validation epoch, however the loop ended.
  if (on_backend) on_backend->to_host();  // the trained parameters, for the model file
  if (has_valid && options.patience > 0 && !loop.best_values.empty()) {
    state.set_values(arma::vectorise(loop.best_values));
    if (on_backend) on_backend->from_host();
  }
  if (!loop.usage.empty() && !loop.usage.front().empty()) {
    h.usage.set_size(loop.usage.front().n_elem, loop.usage.size());
    for (std::size_t e = 0; e < loop.usage.size(); ++e) h.usage.col(e) = loop.usage[e];
  }
  return result;
}

namespace {
const TrainerRegistration gradient{{
    .name = "gradient",
    .help = "gradient descent on the mean loss with --optimizer (full batch or --batch-size minibatches)",
    .flags = {"optimizer", "learning-rate", "momentum", "beta1", "beta2", "batch-size", "l2"},
}};
const TrainerRegistration em{{
    .name = "em",
    .help = "expectation-maximisation (mixture, hme): posteriors, then weighted least squares / IRLS M-steps; the "
            "log-likelihood never decreases",
    .flags = {"gate-fit", "hard-em", "irls-iterations", "irls-ridge", "l2"},
}};
}  // namespace

}  // namespace moe
