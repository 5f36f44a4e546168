#include "moe/train/trainer.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "moe/core/error.hpp"
#include "moe/models/hierarchical.hpp"
#include "moe/train/metrics.hpp"
#include "moe/train/progress.hpp"

namespace moe {

void TrainOptions::validate(bool classification) const {
  require(method == "gradient" || method == "em" || method == "online-em",
          "unknown --trainer '" + method + "' (expected gradient, em or online-em)");
  require(method == "em" || (!em.hard && em.gate_fit == "irls"),
          "--hard-em and --gate-fit apply to --trainer em only");
  if (method == "em") em.validate();
  else if (method == "online-em") online.validate();
  else optimizer.validate();
  require(tolerance >= 0.0, "--tolerance must not be negative");
  require(!std::isnan(criterion), "--criterion must be a number (negative: off), not NaN");
  require(epochs >= 1, "--epochs must be at least 1");
  require(criterion_metric == "loss" || criterion_metric == "mse" || criterion_metric == "error" ||
              criterion_metric == "perplexity",
          "unknown criterion metric '" + criterion_metric + "' (expected loss, mse, error or perplexity)");
  require(classification || criterion_metric != "error", "the criterion metric 'error' needs a classification task");
}

namespace {

// One pass over the data; returns the mean training loss of the epoch (before each step's update).
double run_epoch(Model& model, ParamList& params, Optimizer& opt, const arma::mat& X, const arma::mat& Y,
                 std::size_t batch_size, Rng& rng) {
  const arma::uword n = X.n_cols;
  if (batch_size == 0 || batch_size >= n) {
    params.zero_grad();
    const double value = model.loss(X, Y, true);
    opt.step(params);
    model.end_step();
    return value;
  }
  const arma::uvec order = rng.permutation(n);
  double total = 0.0;
  for (arma::uword start = 0; start < n; start += batch_size) {
    const arma::uvec idx = order.subvec(start, std::min<arma::uword>(n, start + batch_size) - 1);
    const arma::mat bx = X.cols(idx), by = Y.cols(idx);
    params.zero_grad();
    total += model.loss(bx, by, true) * double(idx.n_elem);
    opt.step(params);
    model.end_step();
  }
  return total / double(n);
}

}  // namespace

TrainResult train(Model& model, const arma::mat& X, const arma::mat& Y, const arma::mat& valid_X,
                  const arma::mat& valid_Y, bool classification, const TrainOptions& options, Rng& rng) {
  options.validate(classification);
  ParamList params, state;
  model.collect(params);
  model.collect_state(state);  // early stopping restores all of it (e.g. the loss-free router's bias)
  const bool use_em = options.method == "em";
  EmTrainable* em = use_em ? model.em() : nullptr;
  require(!use_em || em != nullptr, "--trainer em needs a mixture or hme model (got '" + model.spec().kind + "')");
  const bool use_online = options.method == "online-em";
  auto* tree = dynamic_cast<HierarchicalMixture*>(&model);
  require(!use_online || tree != nullptr, "--trainer online-em needs --model hme (a flat mixture is --depth 1)");
  require(!use_online || !model.spec().hard, "--hard is not supported by --trainer online-em (use --trainer em)");
  std::unique_ptr<OnlineHmeRls> online =
      use_online ? std::make_unique<OnlineHmeRls>(*tree, X.n_rows, options.online) : nullptr;
  auto opt = (use_em || use_online) ? nullptr : make_optimizer(options.optimizer);
  const bool has_valid = valid_X.n_cols > 0;

  TrainResult result;
  History& h = result.history;
  std::vector<arma::vec> usage;
  double best_valid = arma::datum::inf;
  arma::vec best_values;
  std::size_t since_best = 0;
  ProgressBar bar("train", options.epochs, options.quiet);

  for (std::size_t epoch = 1; epoch <= options.epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    double epoch_loss;
    if (use_em) {
      epoch_loss = -em->em_step(X, Y, options.em) / double(X.n_cols);
    } else if (use_online) {
      online->epoch(X, Y, rng);
      epoch_loss = model.loss(X, Y, false);  // after the pass: the on-line updates have no batch loss
    } else {
      epoch_loss = run_epoch(model, params, *opt, X, Y, options.batch_size, rng);
    }
    model.end_epoch(epoch);
    const double step_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    result.seconds += step_seconds;
    require(std::isfinite(epoch_loss), "training diverged at epoch " + std::to_string(epoch) +
                                           " (loss is not finite)" +
                                           (use_em || use_online ? std::string("; check the data for outliers "
                                                                               "or raise --irls-ridge")
                                                                 : std::string("; lower --learning-rate")));

    const Metrics train_m = evaluate(model, X, Y, classification);
    h.epoch.push_back(double(epoch));
    h.loss.push_back(epoch_loss);
    h.train_metric.push_back(train_m.value(options.criterion_metric));
    h.train_accuracy.push_back(train_m.accuracy);
    h.seconds.push_back(step_seconds);
    usage.push_back(train_m.usage);

    if (has_valid) {
      const Metrics vm = evaluate(model, valid_X, valid_Y, classification);
      h.valid_loss.push_back(vm.loss);
      h.valid_accuracy.push_back(vm.accuracy);
      if (vm.loss < best_valid) {
        best_valid = vm.loss;
        result.best_epoch = long(epoch);
        best_values = state.values();
        since_best = 0;
      } else {
        ++since_best;
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
    if (has_valid && options.patience > 0 && since_best >= options.patience) {
      result.stopped_early = true;
      break;
    }
  }
  bar.finish();
  // Early stopping keeps the weights of the best validation epoch, however the loop ended.
  if (has_valid && options.patience > 0 && !best_values.empty()) state.set_values(best_values);
  if (!usage.empty() && !usage.front().empty()) {
    h.usage.set_size(usage.front().n_elem, usage.size());
    for (std::size_t e = 0; e < usage.size(); ++e) h.usage.col(e) = usage[e];
  }
  return result;
}

}  // namespace moe
