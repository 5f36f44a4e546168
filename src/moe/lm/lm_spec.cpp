// ModelSpec's language-model fields (kind "lm"): attributes and checks.
#include "moe/core/error.hpp"
#include "moe/models/model_spec.hpp"
#include "moe/sparse/router_registry.hpp"

namespace moe {

void ModelSpec::add_lm_attributes(Attributes& a) const {
  a["head"] = head;
  a["embedding"] = std::int64_t(embedding);
  a["projection"] = std::int64_t(projection);
  a["context_vocabulary"] = std::int64_t(context_vocabulary);
  a["tokenizer"] = tokenizer;
  if (moe_layer) {  // written only when on, so files from before the MoE layer read unchanged
    a["moe_layer"] = std::int64_t(1);
    sparse.add_attributes(a);
  }
}

void ModelSpec::read_lm_attributes(const Attributes& a) {
  head = text_attribute(a, "head");
  embedding = arma::uword(count_attribute(a, "embedding"));
  projection = arma::uword(count_attribute(a, "projection"));
  context_vocabulary = arma::uword(count_attribute(a, "context_vocabulary"));
  tokenizer = text_attribute(a, "tokenizer");
  moe_layer = a.count("moe_layer") && flag_attribute(a, "moe_layer");
  if (moe_layer) sparse.read_attributes(a);
}

void ModelSpec::validate_lm() const {
  require(kind == "lm", "--task lm needs --model lm (got --model " + kind + ")");
  require(task == Task::lm, "--model lm needs --task lm");
  require(head == "softmax" || head == "mos" || head == "moc",
          "unknown --head '" + head + "' (expected softmax, mos or moc)");
  require(inputs >= 1, "the language model needs at least one context token (--context)");
  require(outputs >= 2, "the language model needs a vocabulary of at least 2 words (got " + std::to_string(outputs) + ")");
  require(experts >= 1 && experts <= 256, "--experts (mixture components) must be between 1 and 256 (got " +
                                              std::to_string(experts) + ")");
  require(embedding >= 1, "--embedding must be at least 1");
  require(projection >= 1, "--projection must be at least 1");
  require(hidden >= 1, "--hidden must be at least 1 (got " + std::to_string(hidden) + ")");
  require(activation == "tanh" || activation == "relu",
          "the language model's --activation is tanh or relu (got " + activation + ")");
  if (moe_layer) {
    require(head == "softmax", "--moe-layer needs --head softmax (--experts then counts the layer's experts)");
    // Soft MoE and expert choice mix the tokens of a batch: evaluated over consecutive positions, the
    // context of position t + 1 (which holds the target of t) would shape the prediction at t.
    require(!router_entry(sparse.router).traits.batch_wide_in_evaluation,
            "--moe-layer: --router " + sparse.router + " mixes the tokens of a batch, which would let a language "
            "model see the words it predicts");
    require(sparse.model_dim == hidden, "--moe-layer works on the encoder's output: --d-model must equal --hidden (" +
                                            std::to_string(hidden) + ")");
    sparse.validate(experts);
  }
  require(tokenizer == "word" || tokenizer == "char" || tokenizer == "none",
          "unknown tokenizer '" + tokenizer + "' (expected word, char or none)");
}

}  // namespace moe
