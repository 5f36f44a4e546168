// Empirical rank by SVD, and the softmax bottleneck on the synthetic language: a softmax head's
// log-probability matrix has rank at most d + 1, whatever its weights.
#include <doctest/doctest.h>

#include "moe/core/math.hpp"
#include "moe/lm/language_model.hpp"
#include "moe/lm/rank.hpp"
#include "moe/lm/synthetic_language.hpp"

using namespace moe;

TEST_CASE("rank: known ranks, numpy's default tolerance") {
  Rng rng(5);
  const arma::mat A = rng.normal_matrix(40, 6) * rng.normal_matrix(6, 30);
  const arma::vec s = singular_values(A);
  CHECK(s.n_elem == 30);
  CHECK(empirical_rank(s, rank_tolerance(s, 40, 30)) == 6);
  CHECK(rank_tolerance(s, 40, 30) == doctest::Approx(s.max() * 40 * 2.220446049250313e-16));
  CHECK(empirical_rank(s, rank_tolerance(s, 40, 30, 1e-3)) == 6);
  const arma::vec d = singular_values(arma::diagmat(arma::vec{3, 2, 1e-20}));
  CHECK(empirical_rank(d, rank_tolerance(d, 3, 3)) == 2);
}

TEST_CASE("rank: the synthetic language has logit rank r and log-probability rank r + 1") {
  const SyntheticLanguage L = make_synthetic_language(50, 40, 7, 2.0, 3);
  CHECK(L.log_prob.n_rows == 50);
  CHECK(L.log_prob.n_cols == 40);
  CHECK(arma::abs(arma::sum(arma::exp(L.log_prob), 1) - 1.0).max() < 1e-12);
  const arma::vec s = singular_values(L.log_prob);
  CHECK(empirical_rank(s, rank_tolerance(s, 50, 40)) == 8);
  CHECK(L.entropy() > 0.0);
  CHECK(L.entropy() < std::log(40.0));
}

TEST_CASE("rank: softmax log-probabilities have rank <= d + 1, MoS's exceed it") {
  for (const std::string head : {"softmax", "moc", "mos"}) {
    CAPTURE(head);
    ModelSpec s;
    s.kind = "lm";
    s.task = Task::lm;
    s.inputs = 1;
    s.outputs = 30;
    s.context_vocabulary = 40;
    s.head = head;
    s.experts = 4;
    s.embedding = 8;
    s.hidden = 16;
    s.projection = 3;
    s.tokenizer = "none";
    LanguageModel m(s);
    Rng rng(9);
    m.init(rng);
    const arma::mat X = arma::regspace<arma::rowvec>(0, 39);
    const arma::mat L = m.log_prob(X);  // 30 x 40
    const arma::vec sv = singular_values(L);
    const arma::uword r = empirical_rank(sv, rank_tolerance(sv, 30, 40));
    if (head == "mos") CHECK(r > 4);
    else CHECK(r <= 4);
  }
}
