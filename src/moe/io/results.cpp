#include "moe/io/results.hpp"

#include "moe/core/build_info.hpp"
#include "moe/core/clock.hpp"
#include "moe/core/error.hpp"
#include "moe/io/lm_results.hpp"
#include "moe/sparse/routing_log.hpp"

namespace moe {


void write_run_info(h5::File& file, const RunInfo& info) {
  file.set_attr("/", "program", info.program);
  file.set_attr("/", "version", build::version);
  file.set_attr("/", "git_revision", build::git_revision);
  file.set_attr("/", "build_flags", build::flags);
  file.set_attr("/", "command_line", info.command_line);
  file.set_attr("/", "config", info.config_toml);
  file.set_attr("/", "seed", std::int64_t(info.seed));
  file.set_attr("/", "created", utc_now_iso8601());
  file.set_attr("/", "threads", std::int64_t(info.threads));
  file.set_attr("/", "device", info.device);
}

void write_history(h5::File& file, const TrainResult& result, const TrainOptions& options) {
  const History& h = result.history;
  auto row = [](const std::vector<double>& v) { return arma::rowvec(v); };
  file.write("history/epoch", row(h.epoch));
  file.write("history/loss", row(h.loss));
  file.write("history/train_metric", row(h.train_metric));
  file.write("history/train_accuracy", row(h.train_accuracy));
  file.write("history/valid_loss", row(h.valid_loss));
  file.write("history/valid_accuracy", row(h.valid_accuracy));
  file.write("history/seconds", row(h.seconds));
  file.write("history/usage", h.usage);
  file.set_attr("history", "criterion_metric", options.criterion_metric);
  file.set_attr("history", "criterion", options.criterion);
  file.set_attr("history", "criterion_epoch", std::int64_t(result.criterion_epoch));
  file.set_attr("history", "best_epoch", std::int64_t(result.best_epoch));
  file.set_attr("history", "stopped_early", std::int64_t(result.stopped_early));
  file.set_attr("history", "epochs_run", std::int64_t(h.epoch.size()));
  file.set_attr("history", "converged_epoch", std::int64_t(result.converged_epoch));
  file.set_attr("history", "trainer", options.method);
  file.set_attr("history", "train_seconds", result.seconds);
}

void write_routing(h5::File& file, const RoutingLog& log) {
  const std::size_t S = log.steps();
  auto row = [](const std::vector<double>& v) { return arma::rowvec(v); };
  arma::rowvec step(S);
  for (std::size_t s = 0; s < S; ++s) step[s] = double(s + 1);
  file.write("routing/step", step);
  file.write("routing/cv_importance", row(log.cv_importance));
  file.write("routing/cv_load", row(log.cv_load));
  file.write("routing/max_mean_load", row(log.max_mean_load));
  file.write("routing/dropped_fraction", row(log.dropped_fraction));
  file.write("routing/dropped_token_fraction", row(log.dropped_token_fraction));
  file.write("routing/importance_loss", row(log.importance_loss));
  file.write("routing/load_loss", row(log.load_loss));
  file.write("routing/switch_loss", row(log.switch_loss));
  file.write("routing/z_loss", row(log.z_loss));
  file.write("routing/aux_loss", row(log.aux_total));
  const arma::uword E = S ? log.importance.front().n_elem : 0;
  arma::mat importance(E, S), load(E, S);
  for (std::size_t s = 0; s < S; ++s) importance.col(s) = log.importance[s], load.col(s) = log.load[s];
  file.write("routing/importance", importance);
  file.write("routing/load", load);
  file.set_attr("routing", "steps", std::int64_t(S));
}

void write_split_routing(h5::File& file, const std::string& group, const Model& model, const arma::mat& X) {
  const std::vector<RoutingStats> routing = X.n_cols ? model.routing(X) : std::vector<RoutingStats>{};
  if (routing.empty()) return;
  const RoutingStats& r = routing.front();
  const std::string g = group + "/routing";
  file.write(g + "/importance", r.importance);
  file.write(g + "/load", r.load);
  file.set_attr(g, "cv_importance", r.cv_importance);
  file.set_attr(g, "cv_load", r.cv_load);
  file.set_attr(g, "max_mean_load", r.max_mean_load);
  file.set_attr(g, "dropped_fraction", r.dropped_fraction);
  file.set_attr(g, "dropped_token_fraction", r.dropped_token_fraction);
}

namespace {

// The parts of /eval/<split> that need no targets (write_predictions lists them), from the prediction p.
void write_target_free(h5::File& file, const std::string& split, const Model& model, const Dataset& data,
                       const Prediction& p) {
  const std::string g = "eval/" + split + "/";
  if (data.feature_matrix.empty()) file.write(g + "inputs", data.X);  // a feature matrix stays in its data file
  file.write(g + "predictions", p.output);
  if (data.is_classification()) file.write(g + "predicted_labels", arma::urowvec(arma::index_max(p.output, 0)));
  if (!p.gate.empty()) {
    file.write(g + "gate", p.gate);
    file.write(g + "assignment", arma::urowvec(arma::index_max(p.gate, 0)));
  }
  // Trees: per-level mean over the points of the probability of reaching each node (prior, from the
  // gates); node i of level l has children b*i .. b*i + b - 1 of level l + 1.
  const std::vector<arma::mat> priors = model.node_priors(data.X);
  for (std::size_t l = 1; l < priors.size(); ++l)
    file.write(g + "tree/level" + std::to_string(l) + "/prior_mean", arma::vec(arma::mean(priors[l], 1)));
  if (!priors.empty()) file.set_attr("eval/" + split + "/tree", "levels", std::int64_t(priors.size() - 1));
  // Stacked mixtures: every layer's gate probabilities (K_l x N), argmax expert (N) and usage (K_l).
  const std::vector<arma::mat> layers = model.layer_gates(data.X);
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const std::string lg = g + "layer" + std::to_string(l + 1) + "/";
    file.write(lg + "gate", layers[l]);
    file.write(lg + "assignment", arma::urowvec(arma::index_max(layers[l], 0)));
    file.write(lg + "usage", arma::vec(arma::mean(layers[l], 1)));
  }
  if (!layers.empty()) file.set_attr("eval/" + split, "layers", std::int64_t(layers.size()));
  write_split_routing(file, "eval/" + split, model, data.X);
  if (!data.groups.empty()) file.write(g + "groups", data.groups);
  if (!data.row_ids.empty()) file.write(g + "row_ids", data.row_ids);
  file.set_attr("eval/" + split, "n", std::int64_t(data.n()));
}

void write_usage(h5::File& file, const std::string& split, const arma::vec& usage) {
  if (usage.empty()) return;
  file.write("eval/" + split + "/usage", usage);
  file.set_attr("eval/" + split, "alive_experts", std::int64_t(alive_experts(usage)));
}

}  // namespace

Metrics write_eval(h5::File& file, const std::string& split, const Model& model, const Dataset& data) {
  if (data.task == Task::lm) return write_lm_eval(file, split, model, data);  // src/moe/io/lm_results.hpp
  require(data.has_targets(), "write_eval: the data has no targets (write_predictions writes what needs none)");
  const std::string g = "eval/" + split + "/";
  const Prediction p = model.predict(data.X);
  const Metrics m = evaluate(model, data.X, data.Y, data.is_classification());
  write_target_free(file, split, model, data, p);
  file.write(g + "targets", data.Y);
  if (data.is_classification()) file.write(g + "labels", arma::urowvec(arma::index_max(data.Y, 0)));
  if (!p.gate.empty()) {
    const arma::mat post = model.posterior(data.X, data.Y);
    if (!post.empty()) {  // models without a likelihood per expert (deep MoE) have no posterior
      file.write(g + "posterior", post);
      file.write(g + "posterior_assignment", arma::urowvec(arma::index_max(post, 0)));
    }
    write_usage(file, split, m.usage);
  }
  // Trees: the mean over the points of each node's posterior (given the targets), beside prior_mean.
  const std::vector<arma::mat> posts = model.node_posteriors(data.X, data.Y);
  for (std::size_t l = 1; l < posts.size(); ++l)
    file.write(g + "tree/level" + std::to_string(l) + "/posterior_mean", arma::vec(arma::mean(posts[l], 1)));
  file.set_attr("eval/" + split, "loss", m.loss);
  file.set_attr("eval/" + split, "mse", m.mse);
  file.set_attr("eval/" + split, "accuracy", m.accuracy);
  return m;
}

arma::vec write_predictions(h5::File& file, const std::string& split, const Model& model, const Dataset& data) {
  require(data.task != Task::lm, "a language model has no predictions-only evaluation");
  const Prediction p = model.predict(data.X);
  write_target_free(file, split, model, data, p);
  const arma::vec usage = p.gate.empty() ? arma::vec() : arma::vec(arma::mean(p.gate, 1));
  write_usage(file, split, usage);
  return usage;
}

}  // namespace moe
