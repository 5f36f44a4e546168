#pragma once
// Data options of --task lm (the split fractions and seed are DataOptions' own).
#include <cstddef>
#include <string>

namespace moe {

struct LmDataOptions {
  std::string tokenizer = "word";   // word | char (src/moe/text/tokenizer.hpp)
  std::size_t context = 3;          // n: previous tokens the model reads
  std::size_t min_count = 2;        // vocabulary cutoff: rarer training tokens become <unk>
  std::size_t max_vocabulary = 10000;  // at most this many entries, <unk> and <eos> included (0: no cap)
  std::size_t max_documents = 0;    // use the first N documents of the corpus only (0: all)
  std::string part = "all";         // moe-eval: which split of the documents to evaluate (all|train|valid|test)
};

}  // namespace moe
