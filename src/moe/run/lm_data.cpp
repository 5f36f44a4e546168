#include "moe/run/lm_data.hpp"

#include <filesystem>

#include "moe/core/error.hpp"
#include "moe/data/read_table.hpp"
#include "moe/lm/synthetic_language.hpp"
#include "moe/text/corpus.hpp"
#include "moe/text/tokenizer.hpp"
#include "moe/text/vocabulary.hpp"

namespace moe {

Dataset make_lm_dataset(const std::vector<arma::urowvec>& documents, arma::uword context,
                        const std::vector<std::string>& vocabulary, const arma::uvec& document_ids) {
  require(context >= 1, "--context must be at least 1");
  require(document_ids.empty() || document_ids.n_elem == documents.size(), "make_lm_dataset: one id per document");
  arma::uword N = 0;
  for (const auto& d : documents) N += d.n_elem + (d.n_elem == 0 || d[d.n_elem - 1] != Vocabulary::eos);
  Dataset out;
  out.task = Task::lm;
  out.X.set_size(context, N);
  out.Y.set_size(1, N);
  out.row_ids.set_size(N);
  out.target_names = vocabulary;
  for (arma::uword i = 0; i < context; ++i) out.feature_names.push_back("t-" + std::to_string(context - i));
  arma::uword col = 0;
  for (std::size_t k = 0; k < documents.size(); ++k) {
    const arma::urowvec& doc = documents[k];
    arma::urowvec seq = doc;
    if (seq.n_elem == 0 || seq[seq.n_elem - 1] != Vocabulary::eos) seq.resize(seq.n_elem + 1), seq[seq.n_elem - 1] = Vocabulary::eos;
    for (arma::uword t = 0; t < seq.n_elem; ++t, ++col) {
      for (arma::uword i = 0; i < context; ++i) {
        const long at = long(t) - long(context) + long(i);
        out.X(i, col) = double(at < 0 ? Vocabulary::eos : seq[arma::uword(at)]);
      }
      out.Y(0, col) = double(seq[t]);
      out.row_ids[col] = document_ids.empty() ? k : document_ids[k];
    }
  }
  out.labels = arma::conv_to<arma::urowvec>::from(out.Y);
  return out;
}

namespace {

PreparedData prepare_synthetic(const DataOptions& options) {
  const SyntheticLanguage L = read_synthetic_language(options.path);
  const arma::uword C = L.log_prob.n_rows, V = L.log_prob.n_cols;
  PreparedData out;
  Dataset& d = out.train;
  d.task = Task::lm;
  d.X = arma::regspace<arma::rowvec>(0, double(C - 1));
  d.Y = arma::exp(L.log_prob).t();  // V x C: column c is P*(. | c)
  d.Y.each_row() /= arma::sum(d.Y, 0);
  d.labels = arma::index_max(d.Y, 0);
  d.row_ids = arma::regspace<arma::uvec>(0, C - 1);  // column c is context c
  d.feature_names = {"context"};
  for (arma::uword w = 0; w < V; ++w) {  // "w" + std::to_string(w) trips GCC 12's false -Wrestrict warning
    std::string name = "w";
    d.target_names.push_back(name.append(std::to_string(w)));
  }
  for (Dataset* part : {&out.valid, &out.test}) {  // the whole language is the training set
    *part = d.subset(arma::uvec());
  }
  out.standardizer.mean.zeros(1);
  out.standardizer.scale.ones(1);
  out.context_vocabulary = C;
  out.tokenizer = "none";
  return out;
}

}  // namespace

PreparedData prepare_lm_data(const DataOptions& options, Rng& rng, const std::vector<std::string>* vocabulary) {
  require(!options.path.empty(), "no data file given (--data)");
  if (is_hdf5_path(options.path)) return prepare_synthetic(options);
  const LmDataOptions& o = options.lm;
  const TokenizerKind kind = parse_tokenizer(o.tokenizer);
  require(o.context >= 1 && o.context <= 64, "--context must be between 1 and 64 (got " + std::to_string(o.context) + ")");
  std::string path = options.path;
  if (std::filesystem::is_directory(path)) path = (std::filesystem::path(path) / "corpus.txt").string();
  Corpus corpus = read_corpus(path);
  if (o.max_documents > 0 && corpus.documents.size() > o.max_documents) corpus.documents.resize(o.max_documents);
  const std::size_t D = corpus.documents.size();

  PreparedData out;
  out.split = split_random(D, options.valid_fraction, options.test_fraction, rng);
  require(out.split.train.n_elem > 0, "the training split holds no documents");
  std::vector<std::vector<std::string>> tokens(D);
  for (std::size_t i = 0; i < D; ++i) tokens[i] = tokenize(kind, corpus.documents[i].text);

  const arma::uvec* parts[3] = {&out.split.train, &out.split.valid, &out.split.test};
  std::vector<std::string>* names[3] = {&out.split.train_groups, &out.split.valid_groups, &out.split.test_groups};
  std::vector<std::vector<std::string>> train_tokens;
  for (arma::uword i : out.split.train) train_tokens.push_back(tokens[i]);
  const Vocabulary vocab = vocabulary ? Vocabulary::from_words(*vocabulary)
                                      : Vocabulary::build(train_tokens, o.min_count, o.max_vocabulary);
  Dataset* datasets[3] = {&out.train, &out.valid, &out.test};
  for (int p = 0; p < 3; ++p) {
    std::vector<arma::urowvec> ids;
    for (arma::uword i : *parts[p]) {
      ids.push_back(vocab.encode(tokens[i]));
      names[p]->push_back(corpus.documents[i].id);
    }
    *datasets[p] = make_lm_dataset(ids, o.context, vocab.words(), *parts[p]);  // row ids: document indices
  }
  out.standardizer.mean.zeros(o.context);
  out.standardizer.scale.ones(o.context);
  out.context_vocabulary = vocab.size();
  out.tokenizer = o.tokenizer;
  return out;
}

}  // namespace moe
