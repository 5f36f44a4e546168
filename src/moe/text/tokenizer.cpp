#include "moe/text/tokenizer.hpp"

#include "moe/core/error.hpp"

namespace moe {

TokenizerKind parse_tokenizer(const std::string& name) {
  if (name == "word") return TokenizerKind::word;
  if (name == "char") return TokenizerKind::character;
  fail("unknown tokenizer '" + name + "' (expected word or char)");
}

std::string to_string(TokenizerKind kind) { return kind == TokenizerKind::word ? "word" : "char"; }

namespace {
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_letter(char c) { return is_lower(c) || is_upper(c); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
}  // namespace

std::vector<std::string> tokenize_words(const std::string& text) {
  std::vector<std::string> out;
  std::string word;
  const std::size_t n = text.size();
  auto flush = [&] {
    if (!word.empty()) out.push_back(word);
    word.clear();
  };
  for (std::size_t i = 0; i < n; ++i) {
    const char c = text[i];
    if (is_letter(c) || is_digit(c)) {
      word += is_upper(c) ? char(c - 'A' + 'a') : c;
    } else if (c == '\'' && !word.empty() && is_letter(word.back()) && i + 1 < n && is_letter(text[i + 1])) {
      word += c;
    } else {
      flush();
      if (c == '.' || c == '!' || c == '?') {
        std::size_t j = i + 1;
        while (j < n && (text[j] == '"' || text[j] == '\'' || text[j] == ')')) ++j;  // closing quotes
        const bool at_end = j == n;
        std::size_t k = j;
        while (k < n && is_space(text[k])) ++k;
        const bool next_sentence = k > j && k < n && (is_upper(text[k]) || text[k] == '"' || text[k] == '\'');
        if ((at_end || next_sentence) && (out.empty() || out.back() != eos_token)) out.push_back(eos_token);
      }
    }
  }
  flush();
  return out;
}

std::vector<std::string> tokenize_chars(const std::string& text) {
  std::vector<std::string> out;
  out.reserve(text.size());
  for (char c : text) out.emplace_back(1, c);
  return out;
}

std::vector<std::string> tokenize(TokenizerKind kind, const std::string& text) {
  return kind == TokenizerKind::word ? tokenize_words(text) : tokenize_chars(text);
}

}  // namespace moe
