#pragma once
// Tokenizers for language modelling. Both are pure functions of the text (no state, no locale).
//
// word: ASCII letters are lowercased; a token is a run of letters and digits, with an apostrophe kept
//   between two letters ("don't", "nation's"); '.', '!' and '?' end a sentence, emitted as "<eos>", when
//   followed by the end of the text or by spaces and then an uppercase letter or a quote ("the U.S. army"
//   ends no sentence; "the U.S. The" and, wrongly, "U.S. Army" do); all other characters separate tokens
//   and are dropped.
// char: every byte is a token (UTF-8 multi-byte characters become several tokens), spaces included.
#include <string>
#include <vector>

namespace moe {

enum class TokenizerKind { word, character };

TokenizerKind parse_tokenizer(const std::string& name);  // "word" | "char"
std::string to_string(TokenizerKind kind);

inline constexpr const char* unk_token = "<unk>";
inline constexpr const char* eos_token = "<eos>";

std::vector<std::string> tokenize_words(const std::string& text);
std::vector<std::string> tokenize_chars(const std::string& text);
std::vector<std::string> tokenize(TokenizerKind kind, const std::string& text);

}  // namespace moe
