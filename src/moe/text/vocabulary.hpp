#pragma once
// A vocabulary: token strings <-> ids in [0, V). Id 0 is "<unk>" (every token not in the vocabulary),
// id 1 is "<eos>" (sentence and document boundary; also the padding of contexts at a document's start).
// Built from training documents only, so validation and test words the training set never saw are <unk>.
#include <armadillo>
#include <string>
#include <unordered_map>
#include <vector>

namespace moe {

class Vocabulary {
 public:
  // From token counts: tokens seen at least min_count times, most frequent first (ties in byte order),
  // at most max_size entries in all, the two specials included (0: no cap). Deterministic.
  static Vocabulary build(const std::vector<std::vector<std::string>>& documents, std::size_t min_count,
                          std::size_t max_size);
  // From a saved list (e.g. a model file's /model/target_names); entry 0 must be <unk>, 1 <eos>, no repeats.
  static Vocabulary from_words(const std::vector<std::string>& words);

  std::size_t size() const { return words_.size(); }
  const std::vector<std::string>& words() const { return words_; }
  arma::uword id(const std::string& token) const;  // 0 (<unk>) when absent
  // Ids of a token sequence (1 x T).
  arma::urowvec encode(const std::vector<std::string>& tokens) const;
  // Fraction of `tokens` that map to <unk> (the out-of-vocabulary rate).
  double unknown_rate(const std::vector<std::string>& tokens) const;

  static constexpr arma::uword unk = 0, eos = 1;

 private:
  std::vector<std::string> words_;
  std::unordered_map<std::string, arma::uword> index_;
};

}  // namespace moe
