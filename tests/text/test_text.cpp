// Tokenizers, vocabulary, corpus files, LM data sets built from them, and the KJV reader's parser.
#include <doctest/doctest.h>

#include "cli/run_command.hpp"
#include "data/data_test_util.hpp"
#include "moe/data/fetch_text.hpp"
#include "moe/run/lm_data.hpp"
#include "moe/text/corpus.hpp"
#include "moe/text/tokenizer.hpp"
#include "moe/text/vocabulary.hpp"

using namespace moe;
using namespace moe::test;

TEST_CASE("tokenizer: words, apostrophes, sentence ends") {
  using V = std::vector<std::string>;
  CHECK(tokenize_words("The Nation's debt, in 1790, was large. We paid it!") ==
        V{"the", "nation's", "debt", "in", "1790", "was", "large", "<eos>", "we", "paid", "it", "<eos>"});
  CHECK(tokenize_words("the U.S. army and the U.S. The end") ==
        V{"the", "u", "s", "army", "and", "the", "u", "s", "<eos>", "the", "end"});
  CHECK(tokenize_words("'Hello' -- he said.\" Then?") == V{"hello", "he", "said", "<eos>", "then", "<eos>"});
  CHECK(tokenize_words("").empty());
  CHECK(tokenize_chars("ab c") == V{"a", "b", " ", "c"});
  CHECK(parse_tokenizer("char") == TokenizerKind::character);
  CHECK(error_of([] { parse_tokenizer("bpe"); }) == "unknown tokenizer 'bpe' (expected word or char)");
}

TEST_CASE("vocabulary: cutoff, cap, <unk>, ties in byte order") {
  const std::vector<std::vector<std::string>> docs = {{"b", "a", "a", "c", "<eos>"}, {"b", "d", "a", "c"}};
  const Vocabulary v = Vocabulary::build(docs, 2, 0);
  CHECK(v.words() == std::vector<std::string>{"<unk>", "<eos>", "a", "b", "c"});
  CHECK(v.id("d") == Vocabulary::unk);
  CHECK(arma::all(v.encode({"c", "zz", "a"}) == arma::urowvec{4, 0, 2}));
  CHECK(v.unknown_rate({"a", "d", "e", "b"}) == doctest::Approx(0.5));
  CHECK(Vocabulary::build(docs, 1, 4).words() == std::vector<std::string>{"<unk>", "<eos>", "a", "b"});
  CHECK(error_of([] { Vocabulary::from_words({"<unk>", "<eos>", "x", "x"}); }) == "the vocabulary lists 'x' twice");
}

TEST_CASE("corpus: round trip, whitespace folded, bad lines are one-line errors") {
  TempDir dir("corpus");
  Corpus c;
  c.documents = {{"a", "one\ttwo\n three "}, {"b", "four"}};
  write_corpus(dir / "c.txt", c);
  const Corpus back = read_corpus(dir / "c.txt");
  REQUIRE(back.documents.size() == 2);
  CHECK(back.documents[0].text == "one two three");
  CHECK(back.documents[1].id == "b");
  const std::string bad = write_text(dir, "bad.txt", "a\tx\nno tab here\n");
  CHECK(error_of([&] { read_corpus(bad); }) == bad + " line 2: expected '<id><TAB><text>' (not a moe-data corpus file?)");
  const std::string twice = write_text(dir, "twice.txt", "a\tx\na\ty\n");
  CHECK(error_of([&] { read_corpus(twice); }) == twice + " line 2: document id 'a' appears twice");
}

TEST_CASE("lm data: contexts padded with <eos>, ids as targets, documents split whole") {
  // Vocabulary <unk>=0, <eos>=1, x=2, y=3; one document x y x (an <eos> is appended).
  const Dataset d = make_lm_dataset({arma::urowvec{2, 3, 2}}, 2, {"<unk>", "<eos>", "x", "y"});
  CHECK(d.task == Task::lm);
  CHECK(d.m() == 4);
  CHECK(d.n() == 4);
  CHECK(arma::approx_equal(d.X, arma::mat{{1, 1, 2, 3}, {1, 2, 3, 2}}, "absdiff", 0));
  CHECK(arma::approx_equal(d.Y, arma::mat{{2, 3, 2, 1}}, "absdiff", 0));
  CHECK(d.feature_names == std::vector<std::string>{"t-2", "t-1"});

  TempDir dir("lmdata");
  Corpus c;
  for (int i = 0; i < 10; ++i) c.documents.push_back({"doc" + std::to_string(i), "The cat sat. The dog ran " + std::to_string(i) + "."});
  write_corpus(dir / "c.txt", c);
  DataOptions o;
  o.path = dir / "c.txt";
  o.task = "lm";
  o.valid_fraction = 0.2;
  o.test_fraction = 0.2;
  o.lm.context = 3;
  o.lm.min_count = 2;
  Rng rng(1);
  const PreparedData p = prepare_lm_data(o, rng);
  CHECK(p.split.train_groups.size() == 6);
  CHECK(p.split.valid_groups.size() == 2);
  CHECK(p.split.test_groups.size() == 2);
  // Every document is 8 tokens + <eos>... "the cat sat <eos> the dog ran N <eos>": 9 tokens.
  CHECK(p.train.n() == 6 * 9);
  CHECK(p.valid.n() == 2 * 9);
  // The digits occur once each: below the cutoff, <unk>; the vocabulary is the training set's.
  CHECK(p.train.target_names == std::vector<std::string>{"<unk>", "<eos>", "the", "cat", "dog", "ran", "sat"});
  CHECK(p.context_vocabulary == 7);
  CHECK(p.tokenizer == "word");
}

TEST_CASE("kjv: bible -f output becomes one document per book") {
  const auto books = kjv_books("Ge1:1 In the beginning\nGe1:2 And the earth\n\n1Sa1:1 Now there was\nRe22:21 Amen.\n");
  REQUIRE(books.size() == 3);
  CHECK(books[0].first == "Ge");
  CHECK(books[0].second == "In the beginning And the earth");
  CHECK(books[1].first == "1Sa");
  CHECK(books[2].second == "Amen.");
  CHECK(error_of([] { kjv_books("Genesis 1\n"); }) == "bible output line 1 is not '<book><chapter>:<verse> <text>': Genesis 1");
}
