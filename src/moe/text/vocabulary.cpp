#include "moe/text/vocabulary.hpp"

#include <algorithm>

#include "moe/core/error.hpp"
#include "moe/text/tokenizer.hpp"

namespace moe {

Vocabulary Vocabulary::build(const std::vector<std::vector<std::string>>& documents, std::size_t min_count,
                             std::size_t max_size) {
  require(max_size == 0 || max_size >= 3, "--max-vocabulary must be 0 (no cap) or at least 3 (got " +
                                              std::to_string(max_size) + ")");
  std::unordered_map<std::string, std::size_t> counts;
  for (const auto& doc : documents)
    for (const auto& t : doc) ++counts[t];
  std::vector<std::pair<std::string, std::size_t>> kept;
  for (const auto& [token, count] : counts)
    if (count >= std::max<std::size_t>(1, min_count) && token != unk_token && token != eos_token)
      kept.emplace_back(token, count);
  std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  std::vector<std::string> words{unk_token, eos_token};
  for (const auto& [token, count] : kept) {
    if (max_size != 0 && words.size() >= max_size) break;
    words.push_back(token);
  }
  return from_words(words);
}

Vocabulary Vocabulary::from_words(const std::vector<std::string>& words) {
  require(words.size() >= 2 && words[0] == unk_token && words[1] == eos_token,
          "a vocabulary starts with <unk> and <eos>");
  Vocabulary v;
  v.words_ = words;
  for (std::size_t i = 0; i < words.size(); ++i)
    require(v.index_.emplace(words[i], i).second, "the vocabulary lists '" + words[i] + "' twice");
  return v;
}

arma::uword Vocabulary::id(const std::string& token) const {
  const auto it = index_.find(token);
  return it == index_.end() ? unk : it->second;
}

arma::urowvec Vocabulary::encode(const std::vector<std::string>& tokens) const {
  arma::urowvec ids(tokens.size());
  for (std::size_t i = 0; i < tokens.size(); ++i) ids[i] = id(tokens[i]);
  return ids;
}

double Vocabulary::unknown_rate(const std::vector<std::string>& tokens) const {
  if (tokens.empty()) return 0.0;
  std::size_t n = 0;
  for (const auto& t : tokens) n += id(t) == unk;
  return double(n) / double(tokens.size());
}

}  // namespace moe
