#pragma once
// Everything needed to rebuild a model's structure (not its weights). Saved as attributes of /model,
// so moe-eval can rebuild the model from a results file, then load the weights by parameter name.
#include <armadillo>
#include <map>
#include <string>
#include <vector>

#include "moe/core/attributes.hpp"
#include "moe/data/dataset.hpp"
#include "moe/sparse/layer_spec.hpp"

namespace moe {

struct ModelSpec {
  std::string kind = "mixture";            // "mixture" (adaptive local experts) | "hme" | "mlp" | "meta-pi" |
                                           // "deep" | "sparse" (embedding, sparse MoE FFN, output layer)
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
  // lm (language model, --task lm; src/moe/lm/): inputs = n context tokens, outputs = V words, experts = K
  // components, hidden = H units of the context encoder (activation tanh or relu).
  std::string head = "softmax";            // softmax | mos (mixture of softmaxes) | moc (mixture of contexts)
  arma::uword embedding = 32;              // e: size of the input token embeddings
  arma::uword projection = 32;             // d: size of the output embedding (the softmax bottleneck)
  arma::uword context_vocabulary = 0;      // ids the context tokens take (the synthetic language's contexts);
                                           // 0: the output vocabulary
  std::string tokenizer = "word";          // word | char | none (synthetic language): how text becomes ids
  bool moe_layer = false;                  // lm: a sparse MoE FFN layer (the `sparse` fields, d_model = hidden,
                                           // experts = E routed experts) between the encoder and a softmax head
  // deep (Eigen, Ranzato & Sutskever 2013): stacked dense mixture layers, z_l = sum_i g_li(z_{l-1})
  // f_li(z_{l-1}), experts relu(W z + b), gates softmax(W2 relu(W1 z + b1) + b2), then a softmax classifier.
  std::vector<arma::uword> layer_experts{4, 4};  // experts of each mixture layer (one entry per layer)
  arma::uword expert_hidden = 50;          // output size of every expert (the width of each z_l)
  arma::uword gate_hidden = 50;            // hidden units of every gate
  double balance_margin = 10.0;            // m: an expert whose running gate sum exceeds the mean by m is
                                           // switched off for the example (gate renormalised)
  arma::uword balance_epochs = 0;          // epochs trained with that constraint before fine-tuning; 0: off
  // sparse: the sparse MoE layer (router, k, capacity, d_model, d_ff, losses); experts = E routed experts.
  SparseLayerSpec sparse;

  // As typed /model attributes (docs/results-format.md): kind, task, inputs and outputs always, every
  // other field only when the kind's registry entry reads the flag that sets it (a regression mixture has
  // no MLP output, depth or branching). from_attributes reads the same set (and the all-text attributes
  // of older files).
  Attributes to_attributes() const;
  static ModelSpec from_attributes(const Attributes& attributes);
  void validate() const;  // throws moe::Error naming the impossible setting (the model's entry adds its own)
  // Checks shared by several models' entries: a mixture's experts and gate scale (mixture, hme, meta-pi
  // with softmax experts); an MLP's sizes and output (mlp, meta-pi with mlp experts).
  void validate_experts() const;
  void validate_mlp() const;
  // The lm fields: as attributes, from attributes, checked (src/moe/lm/lm_spec.cpp).
  void add_lm_attributes(Attributes& attributes) const;
  void read_lm_attributes(const Attributes& attributes);
  void validate_lm() const;
  arma::uword expert_count() const;  // K of a mixture, branching^depth of an hme, layer 1's K of a deep
                                     // MoE, 0 for an mlp
};

std::string to_string(Task task);
std::string count_list(const std::vector<arma::uword>& v);  // "4,4"
Task parse_task(const std::string& name);  // "classification" | "regression"

}  // namespace moe
