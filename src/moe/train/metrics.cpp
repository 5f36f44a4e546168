#include "moe/train/metrics.hpp"

#include <cmath>

#include "moe/core/error.hpp"

namespace moe {

double Metrics::value(const std::string& name) const {
  if (name == "loss") return loss;
  if (name == "mse") return mse;
  if (name == "error") {
    require(accuracy >= 0.0, "the metric 'error' needs a classification task");
    return 1.0 - accuracy;
  }
  if (name == "accuracy") return accuracy;
  if (name == "perplexity") {
    require(perplexity >= 0.0, "the metric 'perplexity' needs --task lm");
    return perplexity;
  }
  fail("unknown metric '" + name + "' (expected loss, mse, error or accuracy)");
}

double accuracy(const arma::mat& output, const arma::mat& Y) {
  if (output.n_cols == 0) return 0.0;
  const arma::urowvec predicted = arma::index_max(output, 0);
  const arma::urowvec truth = arma::index_max(Y, 0);
  return double(arma::accu(predicted == truth)) / double(output.n_cols);
}

arma::uword alive_experts(const arma::vec& usage, double threshold) { return arma::accu(usage > threshold); }

Metrics evaluate(const Model& model, const arma::mat& X, const arma::mat& Y, bool classification) {
  Metrics m;
  if (model.spec().task == Task::lm) {  // never the V x N predictions: loss and gate in blocks
    m.loss = X.n_cols ? arma::mean(model.pointwise_loss(X, Y)) : 0.0;
    m.perplexity = std::exp(m.loss);
    m.mse = -1.0;
    const arma::mat g = model.gate(X);
    if (!g.empty()) m.usage = arma::mean(g, 1);
    return m;
  }
  const Prediction p = model.predict(X);
  m.loss = arma::mean(model.pointwise_loss(X, Y));
  m.mse = arma::accu(arma::square(Y - p.output)) / double(std::max<arma::uword>(1, Y.n_elem));
  if (classification) m.accuracy = accuracy(p.output, Y);
  if (classification && !p.output.empty()) m.min_probability = p.output.min();
  if (!p.gate.empty()) m.usage = arma::mean(p.gate, 1);
  return m;
}

}  // namespace moe
