#pragma once
// Flags of --task lm (language models), shared by moe-train and moe-eval: flags -> LmDataOptions and the
// lm fields of ModelSpec. No maths here.
#include <CLI/CLI.hpp>

#include "moe/models/model_spec.hpp"
#include "moe/run/data_options.hpp"

namespace moe::cli {

inline void add_lm_data_options(CLI::App& app, LmDataOptions& o, bool eval) {
  app.add_option("--tokenizer", o.tokenizer, "lm: word (lowercased words, <eos> at sentence ends) or char "
                                             "(bytes)")
      ->capture_default_str();
  app.add_option("--context", o.context, "lm: previous tokens the model reads (n)")->capture_default_str();
  app.add_option("--min-count", o.min_count, "lm: vocabulary cutoff: training tokens seen fewer times become "
                                             "<unk>")
      ->capture_default_str();
  app.add_option("--max-vocabulary", o.max_vocabulary, "lm: at most this many vocabulary entries, most frequent "
                                                       "first, <unk> and <eos> included (0: no cap)")
      ->capture_default_str();
  app.add_option("--max-documents", o.max_documents, "lm: use the first N documents of the corpus (0: all)")
      ->capture_default_str();
  if (eval)
    app.add_option("--part", o.part, "lm: evaluate all documents, or the train, valid or test part of the "
                                     "split given by --valid-fraction/--test-fraction/--split-seed")
        ->capture_default_str()
        ->check(CLI::IsMember({"all", "train", "valid", "test"}));
}

inline void add_lm_model_options(CLI::App& app, ModelSpec& m) {
  app.add_option("--head", m.head, "lm: output head: softmax, mos (mixture of softmaxes, --experts K "
                                   "components) or moc (mixture of contexts, mixed before the softmax)")
      ->capture_default_str();
  app.add_option("--embedding", m.embedding, "lm: size of the input token embeddings")->capture_default_str();
  app.add_flag("--moe-layer", m.moe_layer, "lm: a sparse MoE FFN layer (the sparse flags --router, --top-k, "
                                          "--d-ff, ...; --experts routed experts; d_model = --hidden) between the "
                                          "context encoder and a softmax head");
  app.add_option("--projection", m.projection, "lm: d, size of the output embedding (the softmax bottleneck)")
      ->capture_default_str();
}

}  // namespace moe::cli
