#pragma once
// Evaluation metrics of a model on a data set (X: d x N, Y: m x N).
#include <armadillo>
#include <string>

#include "moe/models/model.hpp"

namespace moe {

struct Metrics {
  double loss = 0.0;      // the model's training objective (mean)
  double mse = 0.0;       // mean over points and outputs of (y - y_hat)^2
  double accuracy = -1;   // classification: fraction with argmax output == label; -1 for regression
  double perplexity = -1; // lm: exp(loss), the loss being the mean cross-entropy in nats; -1 otherwise
                          // (lm has no mse: -1)
  arma::vec usage;        // K: mean gate probability per expert (mixing proportion); empty without a gate
  double min_probability = -1;  // classification: the smallest predicted class probability over points
                                // and classes (exactly 0: a saturated softmax); -1 otherwise
  double value(const std::string& name) const;  // "loss" | "mse" | "error" | "accuracy" | "perplexity"
};

Metrics evaluate(const Model& model, const arma::mat& X, const arma::mat& Y, bool classification);

// Accuracy of argmax over rows of `output` (m x N) against argmax of one-hot Y.
double accuracy(const arma::mat& output, const arma::mat& Y);

// Number of experts whose mixing proportion is above `threshold`.
arma::uword alive_experts(const arma::vec& usage, double threshold = 0.05);

}  // namespace moe
