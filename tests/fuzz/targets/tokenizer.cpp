// Fuzz target: text in, tokens out. The tokenizers (src/moe/text/tokenizer.cpp), whitespace folding and
// the corpus file format (corpus.cpp), the KJV reader's line parser (fetch_text.cpp: kjv_books), and a
// whole --task lm data preparation from a corpus file (run/lm_data.cpp: split, vocabulary.cpp, encoding).
// Byte 0 picks the lm options (tokenizer, context, vocabulary cut-offs, split); the rest is the text.
// Oracles: the tokenizers' documented token shapes; fold_whitespace's output has single inner spaces
// and is a fixed point; a corpus survives write_corpus/read_corpus; every id is inside the vocabulary.
#include "moe/core/rng.hpp"
#include "moe/data/fetch_text.hpp"
#include "moe/run/lm_data.hpp"
#include "moe/text/corpus.hpp"
#include "moe/text/tokenizer.hpp"
#include "moe/text/vocabulary.hpp"
#include "targets/fuzz_util.hpp"

namespace moe::fuzz {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

void check_tokens(const std::string& text) {
  for (const std::string& t : tokenize_words(text)) {
    oracle(!t.empty(), "tokenize_words gave an empty token");
    if (t == eos_token) continue;
    for (char c : t)
      oracle((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '\'', "tokenize_words kept '" + t + "'");
    oracle(t.front() != '\'' && t.back() != '\'', "tokenize_words: apostrophe at a token's edge: '" + t + "'");
  }
  oracle(tokenize_chars(text).size() == text.size(), "tokenize_chars: not one token per byte");

  const std::string folded = fold_whitespace(text);
  oracle(fold_whitespace(folded) == folded, "fold_whitespace is not idempotent");
  for (std::size_t i = 0; i < folded.size(); ++i)
    oracle(!is_space(folded[i]) || (folded[i] == ' ' && i > 0 && i + 1 < folded.size() && folded[i - 1] != ' '),
           "fold_whitespace left a run, an edge space or a non-space blank");
}

void check_corpus(const std::string& text) {
  ScratchFile file("corpus.txt");
  file.write(text);
  Corpus corpus;
  if (refuses([&] { corpus = read_corpus(file.path()); })) return;
  ScratchFile copy("copy.txt");
  if (refuses([&] { write_corpus(copy.path(), corpus); })) return;  // an id with a CR cannot be written
  const Corpus back = read_corpus(copy.path());
  oracle(back.documents.size() == corpus.documents.size(), "a corpus lost documents in a write/read round trip");
  for (std::size_t i = 0; i < back.documents.size(); ++i)
    oracle(back.documents[i].id == corpus.documents[i].id &&
               back.documents[i].text == fold_whitespace(corpus.documents[i].text),
           "a corpus document changed in a write/read round trip");
}

void check_lm_data(std::uint8_t options, const std::string& text) {
  ScratchFile file("lm-corpus.txt");
  file.write(text);
  DataOptions o;
  o.path = file.path();
  o.task = "lm";
  o.lm.tokenizer = (options & 1) ? "char" : "word";
  o.lm.context = 1 + (options >> 1) % 4;
  o.lm.min_count = (options >> 3) % 3;
  static const std::size_t caps[] = {0, 3, 5, 10000};
  o.lm.max_vocabulary = caps[(options >> 5) % 4];
  o.lm.max_documents = (options >> 7) ? 3 : 0;
  o.valid_fraction = (options & 0x40) ? 0.25 : 0.0;
  o.test_fraction = (options & 0x10) ? 0.25 : 0.0;
  Rng rng(options);
  PreparedData d;
  if (refuses([&] { d = prepare_lm_data(o, rng); })) return;
  oracle(d.context_vocabulary >= 2 && (o.lm.max_vocabulary == 0 || d.context_vocabulary <= o.lm.max_vocabulary),
         "the vocabulary size breaks --max-vocabulary");
  for (const Dataset* part : {&d.train, &d.valid, &d.test}) {
    oracle(part->X.n_rows == o.lm.context && part->X.n_cols == part->Y.n_cols, "lm data of the wrong shape");
    oracle(part->X.n_elem == 0 || part->X.max() < double(d.context_vocabulary), "a context id outside the vocabulary");
    oracle(part->Y.n_elem == 0 || part->Y.max() < double(part->m()), "a target id outside the vocabulary");
  }
}

}  // namespace

int fuzz_tokenizer(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t options = data[0];
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  check_tokens(text);
  refuses([&] { kjv_books(text); });
  check_corpus(text);
  check_lm_data(options, text);
  // A saved vocabulary: the tokens of the text after the two specials (repeats are refused).
  std::vector<std::string> words{unk_token, eos_token};
  for (const std::string& t : tokenize_words(text)) words.push_back(t);
  refuses([&] {
    const Vocabulary v = Vocabulary::from_words(words);
    oracle(v.encode(tokenize_words(text)).n_elem == words.size() - 2, "encode changed the token count");
  });
  return 0;
}

}  // namespace moe::fuzz
