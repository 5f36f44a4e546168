#include "moe/io/lm_results.hpp"
#include "moe/io/results.hpp"

#include <set>
#include <vector>

#include "moe/core/error.hpp"
#include "moe/lm/language_model.hpp"
#include "moe/lm/rank.hpp"

namespace moe {

arma::uvec distinct_columns(const arma::mat& X, arma::uword max) {
  std::set<std::vector<double>> seen;
  std::vector<arma::uword> keep;
  for (arma::uword j = 0; j < X.n_cols && keep.size() < max; ++j)
    if (seen.insert(std::vector<double>(X.colptr(j), X.colptr(j) + X.n_rows)).second) keep.push_back(j);
  return arma::uvec(keep);
}

Metrics write_lm_eval(h5::File& file, const std::string& split, const Model& model, const Dataset& data) {
  const auto* lm = dynamic_cast<const LanguageModel*>(&model);
  require(lm != nullptr, "--task lm needs a language model (--model lm)");
  const std::string group = "eval/" + split, g = group + "/";
  const Metrics m = evaluate(model, data.X, data.Y, false);
  file.create_group(group);
  file.set_attr(group, "n", std::int64_t(data.n()));
  file.set_attr(group, "loss", m.loss);
  file.set_attr(group, "perplexity", m.perplexity);
  file.set_attr(group, "mse", -1.0);
  file.set_attr(group, "accuracy", -1.0);
  if (data.Y.n_rows == 1 && !data.target_names.empty() && data.target_names.front() == "<unk>") {
    // Out-of-vocabulary rate of the targets: <unk> is one easy word, so a high rate flatters perplexity.
    const double unk = data.n() ? double(arma::accu(data.Y == 0.0)) / double(data.n()) : 0.0;
    file.set_attr(group, "unk_rate", unk);
  }
  if (!m.usage.empty()) {
    file.write(g + "usage", m.usage);
    file.set_attr(group, "alive_experts", std::int64_t(alive_experts(m.usage)));
  }
  if (data.Y.n_rows > 1 && data.n() > 0) {  // target distributions: the lowest reachable loss and true rank
    const arma::mat logY = arma::log(data.Y);
    double entropy = 0.0;
    for (arma::uword i = 0; i < data.Y.n_elem; ++i)
      if (data.Y[i] > 0.0) entropy -= data.Y[i] * logY[i];
    file.set_attr(group, "target_entropy", entropy / double(data.n()));
    const arma::mat finite = logY.is_finite() ? logY : arma::mat();
    if (!finite.empty()) {
      const arma::vec s = singular_values(finite);
      file.set_attr(group, "target_rank", std::int64_t(empirical_rank(s, rank_tolerance(s, finite.n_rows, finite.n_cols))));
    }
  }
  if (!data.row_ids.empty()) file.write(g + "row_ids", data.row_ids);  // the document (or context) of each column
  write_split_routing(file, group, model, data.X);  // --moe-layer
  const arma::uvec cols = distinct_columns(data.X, rank_max_contexts);
  if (!cols.empty()) {
    const arma::mat L = lm->log_prob(data.X.cols(cols));  // V x M
    const arma::vec s = singular_values(L);
    const double tol = rank_tolerance(s, L.n_rows, L.n_cols);
    file.write(g + "rank/singular_values", s);
    file.set_attr(g + "rank", "rank", std::int64_t(empirical_rank(s, tol)));
    file.set_attr(g + "rank", "tolerance", tol);
    file.set_attr(g + "rank", "contexts", std::int64_t(L.n_cols));
    file.set_attr(g + "rank", "words", std::int64_t(L.n_rows));
  }
  return m;
}

}  // namespace moe
