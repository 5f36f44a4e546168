// The --l2 penalty (l2 / 2) |W|^2 on weight matrices: the penalised IRLS and least-squares M-steps reach
// the stationary points of their penalised objectives (checked against closed forms and the gradient),
// EM with the penalty never decreases the penalised likelihood (flat and tree, every expert kind with
// weights), ParamList::l2_penalty's gradient matches central differences, and a separable problem that
// drives unpenalised IRLS to huge weights stays finite with the penalty.
#include <doctest/doctest.h>

#include "models/problems.hpp"

#include "moe/core/least_squares.hpp"
#include "moe/core/rng.hpp"
#include "moe/core/warning.hpp"
#include "moe/fit/irls.hpp"
#include "moe/models/hierarchical.hpp"
#include "moe/models/local_experts.hpp"
#include "moe/train/trainer.hpp"

using namespace moe;

namespace {

// (T - P) diag(w) for W, b (the gradient of Q with respect to the logits).
arma::mat logit_gradient(const arma::mat& W, const arma::mat& b, const arma::mat& X, const arma::mat& T,
                         const arma::rowvec& w) {
  arma::mat Z = W * X;
  Z.each_col() += b.col(0);
  Z.each_row() -= arma::max(Z, 0);
  arma::mat P = arma::exp(Z);
  P.each_row() /= arma::sum(P, 0);
  const arma::rowvec mass = arma::sum(T, 0);  // dQ/dz_cn = w_n (T_cn - P_cn sum_c T_cn)
  arma::mat R = T - P.each_row() % mass;
  R.each_row() %= w;
  return R;
}

}  // namespace

TEST_CASE("penalised irls: stationary point of Q - l2/2 |W|^2 for every class, class-centred weights") {
  Rng rng(5);
  const arma::mat X = rng.normal_matrix(3, 150);
  arma::mat T = rng.uniform_matrix(4, 150, 0.0, 1.0);
  T.each_row() /= arma::sum(T, 0);
  const arma::rowvec w = rng.uniform_matrix(1, 150, 0.2, 1.0);
  for (double l2 : {0.5, 5.0, 50.0}) {
    CAPTURE(l2);
    arma::mat W = rng.normal_matrix(4, 3), b(4, 1, arma::fill::zeros);
    IrlsOptions o;
    o.max_iterations = 60;
    o.tolerance = 0.0;
    o.l2 = l2;
    const double start = softmax_objective(W, b, X, T, w) - 0.5 * l2 * arma::accu(arma::square(W));
    const double q = irls_softmax(W, b, X, T, w, o);
    CHECK(q == doctest::Approx(softmax_objective(W, b, X, T, w) - 0.5 * l2 * arma::accu(arma::square(W))));
    CHECK(q > start);
    const arma::mat R = logit_gradient(W, b, X, T, w);
    CHECK(arma::abs(R * X.t() - l2 * W).max() < 1e-7);  // every class, the held one included
    CHECK(arma::abs(arma::sum(R, 1)).max() < 1e-7);      // the bias is not penalised
    CHECK(arma::abs(arma::sum(W, 0)).max() < 1e-9);      // centred over classes
  }
}

TEST_CASE("penalised irls: separable one-hot targets give finite weights that shrink as l2 grows") {
  Rng rng(6);
  const arma::mat X = rng.normal_matrix(2, 100);
  arma::mat T(2, 100, arma::fill::zeros);
  for (arma::uword n = 0; n < 100; ++n) T(X(0, n) > 0 ? 0 : 1, n) = 1.0;  // separable by x1
  const arma::rowvec w(100, arma::fill::ones);
  IrlsOptions o;
  o.max_iterations = 200;
  o.tolerance = 0.0;
  arma::mat W0(2, 2, arma::fill::zeros), b0(2, 1, arma::fill::zeros);
  irls_softmax(W0, b0, X, T, w, o);  // unpenalised: the weights run away
  double last = arma::datum::inf;
  for (double l2 : {0.01, 0.1, 1.0}) {
    arma::mat W(2, 2, arma::fill::zeros), b(2, 1, arma::fill::zeros);
    o.l2 = l2;
    irls_softmax(W, b, X, T, w, o);
    const double norm = arma::norm(W, "fro");
    CAPTURE(l2);
    CHECK(std::isfinite(norm));
    CHECK(norm < last);
    CHECK(norm < 0.5 * arma::norm(W0, "fro"));
    const arma::mat R = logit_gradient(W, b, X, T, w);
    CHECK(arma::abs(R * X.t() - l2 * W).max() < 1e-6);
    last = norm;
  }
}

TEST_CASE("penalised least squares: per-output ridge for a diagonal covariance, the Sylvester condition for a full one") {
  Rng rng(7);
  const arma::mat X = rng.normal_matrix(3, 80);
  const arma::mat Y = rng.normal_matrix(2, 3) * X + rng.normal_matrix(2, 80) * 0.3 + 1.0;
  const arma::rowvec w = rng.uniform_matrix(1, 80, 0.1, 1.0);
  const arma::mat Xt = with_bias_row(X);
  const arma::mat A = (Xt.each_row() % w) * Xt.t();
  const arma::mat B = (Y.each_row() % w) * Xt.t();
  arma::mat P(4, 4, arma::fill::eye);
  P(3, 3) = 0.0;
  const double l2 = 7.0;

  arma::mat W, b;
  const arma::vec var{0.5, 2.0};
  penalised_least_squares(X, Y, w, l2, arma::diagmat(var), W, b);
  for (arma::uword j = 0; j < 2; ++j) {  // (A + l2 s_j P) theta_j = B_j'
    const arma::vec theta = arma::solve(A + l2 * var(j) * P, B.row(j).t());
    CHECK(arma::abs(W.row(j).t() - theta.subvec(0, 2)).max() < 1e-10);
    CHECK(std::abs(b(j, 0) - theta(3)) < 1e-10);
  }

  const arma::mat S = {{1.0, 0.6}, {0.6, 2.0}};
  penalised_least_squares(X, Y, w, l2, S, W, b);
  const arma::mat coef = arma::join_rows(W, b);
  // Gradient of (1/2) sum w r' S^-1 r + (l2/2)|W|^2: -S^-1 (B - coef A) + l2 coef P = 0.
  CHECK(arma::abs(-arma::solve(S, B - coef * A) + l2 * coef * P).max() < 1e-9);

  arma::mat W0, b0, W1, b1;
  weighted_least_squares(X, Y, w, W0, b0);
  penalised_least_squares(X, Y, w, 0.0, S, W1, b1);
  CHECK(arma::approx_equal(W0, W1, "absdiff", 0.0));
  CHECK(arma::approx_equal(b0, b1, "absdiff", 0.0));
}

TEST_CASE("l2 penalty: value and gradient of ParamList::l2_penalty on the weight parameters alone") {
  arma::mat W = {{1.0, -2.0}, {0.5, 3.0}}, dW, c(1, 1, arma::fill::value(4.0)), dc;
  ParamList params;
  params.add("W", W, dW, ParamKind::weight);
  params.add("c", c, dc);
  CHECK(params.l2_penalty(0.0, true) == 0.0);
  CHECK(params.l2_penalty(0.3, false) == doctest::Approx(0.15 * (1 + 4 + 0.25 + 9)));
  params.zero_grad();
  params.l2_penalty(0.3, true);
  CHECK(arma::approx_equal(dW, 0.3 * W, "absdiff", 1e-15));
  CHECK(arma::accu(arma::abs(dc)) == 0.0);  // a bias is not penalised
}

TEST_CASE("em with --l2: the penalised log-likelihood never decreases (mixture and hme, every expert kind with weights)") {
  WarningCapture quiet;  // a full-covariance expert may meet its variance floor on this small problem
  int checked = 0;
  for (const char* expert : {"linear-gaussian", "linear-gaussian-full", "softmax"}) {
    for (const char* kind : {"mixture", "hme"}) {
      for (std::uint64_t seed = 1; seed <= 3; ++seed) {
        const bool cls = std::string(expert) == "softmax";
        CAPTURE(expert);
        CAPTURE(kind);
        CAPTURE(seed);
        ModelSpec s;
        s.kind = kind;
        s.task = cls ? Task::classification : Task::regression;
        s.inputs = 3;
        s.outputs = 3;
        s.experts = 4;
        s.depth = 2;
        s.branching = 2;
        s.expert = expert;
        s.gate_init_scale = 0.7;
        std::unique_ptr<Model> model = s.kind == "hme" ? std::unique_ptr<Model>(std::make_unique<HierarchicalMixture>(s))
                                                       : std::unique_ptr<Model>(std::make_unique<LocalExpertsMixture>(s));
        Rng rng(seed * 17);
        model->init(rng);
        const moe::test::Problem p = moe::test::make_problem(3, 3, 120, cls, seed + 70);
        TrainOptions o;
        o.method = "em";
        o.epochs = 20;
        o.quiet = true;
        o.l2 = 0.05;
        o.criterion = -1;
        Rng train_rng(seed);
        const TrainResult r = train(*model, p.X, p.Y, arma::mat(), arma::mat(), cls, o, train_rng);
        const auto& loss = r.history.loss;  // penalised, of the parameters before each step
        REQUIRE(loss.size() == 20);
        for (std::size_t e = 1; e < loss.size(); ++e, ++checked)
          CHECK(loss[e] <= loss[e - 1] + 1e-9 * std::max(1.0, std::abs(loss[e - 1])));
        CHECK(loss.back() < loss.front());
      }
    }
  }
  CHECK(checked == 3 * 2 * 3 * 19);
}
