#pragma once
// Everything needed to rebuild a model's structure (not its weights). Saved as attributes of /model,
// so moe-eval can rebuild the model from a results file, then load the weights by parameter name.
#include <armadillo>
#include <map>
#include <string>

#include "moe/data/dataset.hpp"

namespace moe {

struct ModelSpec {
  std::string kind = "mixture";            // "mixture" (adaptive local experts) | "hme" | "mlp"
  Task task = Task::classification;
  arma::uword inputs = 0;                  // d
  arma::uword outputs = 0;                 // m (classes for classification)
  // mixture
  arma::uword experts = 4;                 // K
  std::string expert = "softmax";          // gaussian | linear-gaussian | softmax
  bool learn_variance = true;              // linear-gaussian experts
  double gate_init_scale = 0.0;            // std of the gate's initial weights
  std::string gate = "linear";             // mixture: linear (softmax(V x + c)) | gaussian (Xu et al. 1995)
  bool hard = false;                       // hard MoE (mixture, hme): only the argmax expert, in training
                                           // (Viterbi complete-data likelihood) and in prediction
  // hme: experts = branching^depth
  arma::uword depth = 2;
  arma::uword branching = 2;
  // mlp
  arma::uword hidden = 6;
  std::string activation = "tanh";         // tanh | sigmoid | relu
  std::string output = "softmax";          // softmax (cross-entropy) | sigmoid | linear (squared error)
  // meta-pi (Hampshire & Waibel 1992): K = experts blended by a linear-softmax gate, squared error;
  // expert = "mlp" (hidden/activation/output above) or "softmax" (linear softmax classifiers).
  bool freeze_experts = false;             // experts' parameters are not trained (saved all the same)

  std::map<std::string, std::string> to_attributes() const;
  static ModelSpec from_attributes(const std::map<std::string, std::string>& attributes);
  void validate() const;  // throws moe::Error naming the impossible setting
  arma::uword expert_count() const;  // K of a mixture, branching^depth of an hme, 0 for an mlp
};

std::string to_string(Task task);
Task parse_task(const std::string& name);  // "classification" | "regression"

}  // namespace moe
