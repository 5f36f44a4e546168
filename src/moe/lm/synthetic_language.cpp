#include "moe/lm/synthetic_language.hpp"

#include <cmath>

#include "moe/core/error.hpp"
#include "moe/core/math.hpp"
#include "moe/h5/hdf5.hpp"

namespace moe {

double SyntheticLanguage::entropy() const {
  return -arma::accu(arma::exp(log_prob) % log_prob) / double(std::max<arma::uword>(1, log_prob.n_rows));
}

SyntheticLanguage make_synthetic_language(arma::uword contexts, arma::uword words, arma::uword rank,
                                          double scale, std::uint64_t seed) {
  require(contexts >= 2 && words >= 2, "the synthetic language needs at least 2 contexts and 2 words");
  require(rank >= 1 && rank <= std::min(contexts, words),
          "--rank must be between 1 and min(--contexts, --words) = " + std::to_string(std::min(contexts, words)));
  require(scale > 0.0 && std::isfinite(scale), "--logit-scale must be positive");
  Rng rng(seed);
  const arma::mat A = rng.normal_matrix(contexts, rank), B = rng.normal_matrix(words, rank);
  arma::mat Z = A * B.t() * (scale / std::sqrt(double(rank)));  // entries have standard deviation `scale`
  SyntheticLanguage L;
  L.log_prob = log_softmax_cols(Z.t()).t();  // rows: contexts
  L.rank = rank;
  L.scale = scale;
  L.seed = seed;
  return L;
}

void write_synthetic_language(const std::string& path, const SyntheticLanguage& L) {
  h5::File f = h5::File::create(path);
  f.write("language/log_prob", L.log_prob);
  f.set_attr("language", "contexts", std::int64_t(L.log_prob.n_rows));
  f.set_attr("language", "words", std::int64_t(L.log_prob.n_cols));
  f.set_attr("language", "rank", std::int64_t(L.rank));
  f.set_attr("language", "scale", L.scale);
  f.set_attr("language", "seed", std::int64_t(L.seed));
  f.set_attr("language", "entropy", L.entropy());
  f.commit();
}

SyntheticLanguage read_synthetic_language(const std::string& path) {
  const h5::File f = h5::File::open(path);
  require(f.is_dataset("language/log_prob"),
          path + " has no /language/log_prob (not a moe-data generate rank-language file?)");
  SyntheticLanguage L;
  L.log_prob = f.read_matrix("language/log_prob");
  require(L.log_prob.n_rows >= 1 && L.log_prob.n_cols >= 2, path + ": /language/log_prob needs at least 2 words");
  require(!L.log_prob.has_nan() && L.log_prob.max() <= 1e-12, path + ": /language/log_prob holds values above 0 or NaN");
  const arma::vec total = arma::sum(arma::exp(L.log_prob), 1);
  require(arma::abs(total - 1.0).max() < 1e-9, path + ": a row of /language/log_prob does not sum to 1 in probability");
  if (f.has_attr("language", "rank")) L.rank = arma::uword(f.attr_int("language", "rank"));
  if (f.has_attr("language", "scale")) L.scale = f.attr_double("language", "scale");
  if (f.has_attr("language", "seed")) L.seed = std::uint64_t(f.attr_int("language", "seed"));
  return L;
}

}  // namespace moe
