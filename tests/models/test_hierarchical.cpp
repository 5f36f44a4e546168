// Hierarchical mixture of experts: gradient checks, depth 1 against the flat mixture (a second
// implementation), node posteriors, and EM's monotone log-likelihood (flat and tree, every expert kind,
// soft and hard EM with IRLS gates; Algorithm 2 is not monotone by construction and is not tested for it).
#include <doctest/doctest.h>

#include "models/problems.hpp"

#include "moe/core/gradient_check.hpp"
#include "moe/experts/expert_registry.hpp"
#include "moe/fit/irls.hpp"
#include "moe/models/hierarchical.hpp"
#include "moe/models/local_experts.hpp"
#include "moe/train/online_em.hpp"

using namespace moe;
using moe::test::make_problem;
using moe::test::Problem;

namespace {


ModelSpec tree_spec(arma::uword depth, arma::uword branching, const std::string& expert, bool cls, arma::uword d = 2,
                    arma::uword m = 2) {
  ModelSpec s;
  s.kind = "hme";
  s.task = cls ? Task::classification : Task::regression;
  s.inputs = d;
  s.outputs = m;
  s.depth = depth;
  s.branching = branching;
  s.expert = expert;
  s.gate_init_scale = 0.7;
  return s;
}

// 25 EM steps on p; checks that each step's log-likelihood is at least the last one's (relative 1e-9),
// counts the steps in `checked`, and returns the first and last log-likelihoods.
std::pair<double, double> em_steps_never_decrease(EmTrainable& model, const Problem& p, bool hard, int& checked) {
  EmOptions o;
  o.hard = hard;
  double previous = -arma::datum::inf, first = 0.0;
  for (int it = 0; it < 25; ++it) {
    const double ll = model.em_step(p.X, p.Y, o);
    CHECK(ll >= previous - 1e-9 * std::abs(previous));
    if (it == 0) first = ll;
    previous = ll;
    ++checked;
  }
  return {first, previous};
}

}  // namespace

TEST_CASE("hme: gradient of the loss for trees of several shapes and every expert kind") {
  struct Case {
    arma::uword depth, branching;
    std::string expert;
    bool cls;
  };
  for (const Case& c : {Case{1, 3, "linear-gaussian", false}, Case{2, 2, "linear-gaussian", false},
                        Case{2, 2, "linear-gaussian-full", false}, Case{3, 2, "gaussian", false},
                        Case{2, 3, "softmax", true}}) {
    CAPTURE(c.depth);
    CAPTURE(c.branching);
    CAPTURE(c.expert);
    HierarchicalMixture model(tree_spec(c.depth, c.branching, c.expert, c.cls, 2, 3));
    Rng rng(11);
    model.init(rng);
    Problem p = make_problem(2, 3, 19, c.cls, 12);
    ParamList params;
    model.collect(params);
    const GradientCheck g = check_gradient(params, [&](bool acc) { return model.loss(p.X, p.Y, acc); });
    CHECK(g.max_relative_error < 1e-6);
    CHECK(arma::norm(g.analytic) > 1e-3);
  }
}

TEST_CASE("hme: depth 1 equals the flat mixture with the same parameters") {
  ModelSpec flat_spec = tree_spec(1, 4, "linear-gaussian", false);
  flat_spec.kind = "mixture";
  flat_spec.experts = 4;
  LocalExpertsMixture flat(flat_spec);
  HierarchicalMixture tree(tree_spec(1, 4, "linear-gaussian", false));
  Rng rng(3);
  tree.init(rng);
  ParamList pf, pt;
  flat.collect(pf);
  tree.collect(pt);
  // Same parameters: tree names gate0/V, expert0/W...; flat names gate/V, expert0/W...
  for (const auto& p : pt) {
    std::string name = p.name;
    if (name.rfind("gate0/", 0) == 0) name = "gate/" + name.substr(6);
    REQUIRE(pf.find(name) != nullptr);
    *pf.find(name)->value = *p.value;
  }
  Problem p = make_problem(2, 2, 40, false, 4);
  pf.zero_grad();
  pt.zero_grad();
  CHECK(flat.loss(p.X, p.Y, true) == doctest::Approx(tree.loss(p.X, p.Y, true)).epsilon(1e-14));
  CHECK(arma::approx_equal(pf.grads(), pt.grads(), "absdiff", 1e-13));
  CHECK(arma::approx_equal(flat.posterior(p.X, p.Y), tree.posterior(p.X, p.Y), "absdiff", 1e-14));
  CHECK(arma::approx_equal(flat.predict(p.X).output, tree.predict(p.X).output, "absdiff", 1e-13));
  // One EM step each: still identical.
  EmOptions o;
  CHECK(flat.em_step(p.X, p.Y, o) == doctest::Approx(tree.em_step(p.X, p.Y, o)).epsilon(1e-14));
  CHECK(flat.loss(p.X, p.Y, false) == doctest::Approx(tree.loss(p.X, p.Y, false)).epsilon(1e-10));
}

TEST_CASE("hme: node posteriors and priors are consistent distributions at every level") {
  HierarchicalMixture tree(tree_spec(3, 2, "linear-gaussian", false));
  Rng rng(5);
  tree.init(rng);
  Problem p = make_problem(2, 2, 30, false, 6);
  const auto post = tree.node_posteriors(p.X, p.Y);
  const auto prior = tree.node_priors(p.X);
  REQUIRE(post.size() == 4);
  for (arma::uword l = 0; l <= 3; ++l) {
    CHECK(post[l].n_rows == (1u << l));
    CHECK(arma::abs(arma::sum(post[l], 0) - 1.0).max() < 1e-12);
    CHECK(arma::abs(arma::sum(prior[l], 0) - 1.0).max() < 1e-12);
  }
  // The leaf priors are the gate probabilities the model predicts with.
  CHECK(arma::approx_equal(prior[3], tree.predict(p.X).gate, "absdiff", 1e-14));
}

TEST_CASE("em: the log-likelihood never decreases (trees of depth 1-3, every expert kind, soft and hard EM)") {
  // Soft EM: log p(y | x). Hard EM: the Viterbi (complete-data) log-likelihood, which em_step reports.
  int checked = 0;
  for (bool hard : {false, true})
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    for (const char* expert : {"linear-gaussian", "linear-gaussian-full", "gaussian", "softmax"}) {
      for (arma::uword depth : {1u, 2u, 3u}) {
        const bool cls = std::string(expert) == "softmax";
        CAPTURE(seed);
        CAPTURE(expert);
        CAPTURE(depth);
        CAPTURE(hard);
        HierarchicalMixture tree(tree_spec(depth, 2, expert, cls, 3, 3));
        Rng rng(seed * 101);
        tree.init(rng);
        Problem p = make_problem(3, 3, 150, cls, seed);
        em_steps_never_decrease(tree, p, hard, checked);
      }
    }
  }
  CHECK(checked == 2 * 6 * 4 * 3 * 25);
}

TEST_CASE("em: the log-likelihood never decreases (flat mixtures of 2-6 experts, every expert kind, soft and hard EM)") {
  // LocalExpertsMixture::em_step is its own implementation (the one --model mixture and the flexmix
  // comparison use), so it gets the same test as the tree.
  int checked = 0;
  for (bool hard : {false, true})
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    for (const char* expert : {"linear-gaussian", "linear-gaussian-full", "gaussian", "softmax"}) {
      for (arma::uword k : {2u, 4u, 6u}) {
        const bool cls = std::string(expert) == "softmax";
        CAPTURE(seed);
        CAPTURE(expert);
        CAPTURE(k);
        CAPTURE(hard);
        ModelSpec s = tree_spec(1, 2, expert, cls, 3, 3);
        s.kind = "mixture";
        s.experts = k;
        LocalExpertsMixture mixture(s);
        Rng rng(seed * 103);
        mixture.init(rng);
        Problem p = make_problem(3, 3, 150, cls, seed + 50);
        const auto [first, last] = em_steps_never_decrease(mixture, p, hard, checked);
        CHECK(last > first);  // EM moved: the check above is not vacuous
      }
    }
  }
  CHECK(checked == 2 * 6 * 4 * 3 * 25);
}

TEST_CASE("em: a flat mixture fitted by EM recovers a known mixture of linear experts") {
  // Two experts split by the sign of x: y = 2x + 1 for x < 0, y = -x + 3 for x > 0, noise 0.05.
  Rng rng(9);
  arma::mat X = rng.uniform_matrix(1, 400, -2.0, 2.0), Y(1, 400);
  for (arma::uword j = 0; j < 400; ++j)
    Y(0, j) = (X(0, j) < 0 ? 2.0 * X(0, j) + 1.0 : -X(0, j) + 3.0) + 0.05 * rng.normal();
  ModelSpec s = tree_spec(1, 2, "linear-gaussian", false, 1, 1);
  s.kind = "mixture";
  s.experts = 2;
  s.gate_init_scale = 1.0;
  LocalExpertsMixture model(s);
  model.init(rng);
  EmOptions o;
  for (int it = 0; it < 100; ++it) model.em_step(X, Y, o);
  ParamList params;
  model.collect(params);
  arma::vec slopes = {params.find("expert0/W")->value->at(0), params.find("expert1/W")->value->at(0)};
  slopes = arma::sort(slopes);
  CHECK(slopes[0] == doctest::Approx(-1.0).epsilon(0.03));
  CHECK(slopes[1] == doctest::Approx(2.0).epsilon(0.03));
  const arma::vec var = arma::exp(arma::join_cols(*params.find("expert0/log_var")->value,
                                                  *params.find("expert1/log_var")->value));
  CHECK(var.max() < 0.05 * 0.05 * 1.5);
}

TEST_CASE("irls: reaches the weighted multinomial logistic optimum (gradient zero, objective up)") {
  Rng rng(21);
  const arma::mat X = rng.normal_matrix(2, 200);
  arma::mat T = rng.uniform_matrix(3, 200, 0.0, 1.0);
  T.each_row() /= arma::sum(T, 0);  // soft targets: the optimum is finite
  const arma::rowvec w = rng.uniform_matrix(1, 200, 0.2, 1.0);
  arma::mat W(3, 2, arma::fill::zeros), b(3, 1, arma::fill::zeros);
  const double q0 = softmax_objective(W, b, X, T, w);
  IrlsOptions o;
  o.max_iterations = 50;
  o.tolerance = 0.0;  // to the optimum: the default stops once a step would gain less than 1e-10 |Q|
  const double q = irls_softmax(W, b, X, T, w, o);
  CHECK(q > q0);
  // Gradient of the objective at the solution: (T - P) diag(w) [X; 1]^T = 0 (sum T = 1 per column).
  arma::mat P = arma::exp(W * X);
  P.each_col() %= arma::exp(b.col(0));
  P.each_row() /= arma::sum(P, 0);
  arma::mat R = T - P;
  R.each_row() %= w;
  CHECK(arma::abs(R * X.t()).max() < 1e-8);
  CHECK(arma::abs(arma::sum(R, 1)).max() < 1e-8);
}

TEST_CASE("hard hme: Viterbi loss, its gradient, and prediction by the argmax expert alone") {
  for (arma::uword depth : {1u, 2u}) {
    CAPTURE(depth);
    ModelSpec s = tree_spec(depth, 2, "linear-gaussian", false, 2, 2);
    s.hard = true;
    HierarchicalMixture hard(s);
    s.hard = false;
    HierarchicalMixture soft(s);
    Rng rng(31);
    hard.init(rng);
    ParamList ph, ps;
    hard.collect(ph);
    soft.collect(ps);
    ps.set_values(ph.values());
    Problem p = make_problem(2, 2, 25, false, 32);
    // Loss = -mean over points of max_leaf [log prior + log p]: never below the soft loss.
    CHECK(hard.loss(p.X, p.Y, false) >= soft.loss(p.X, p.Y, false));
    const GradientCheck g = check_gradient(ph, [&](bool acc) { return hard.loss(p.X, p.Y, acc); });
    CHECK(g.max_relative_error < 1e-6);
    // Prediction: the output of the leaf with the largest path probability, column by column.
    const Prediction hp = hard.predict(p.X), sp = soft.predict(p.X);
    CHECK(arma::approx_equal(hp.gate, sp.gate, "absdiff", 0.0));
    const arma::urowvec best = arma::index_max(hp.gate, 0);
    arma::mat expected(2, p.X.n_cols);
    for (arma::uword j = 0; j < p.X.n_cols; ++j) {
      const std::string w = "expert" + std::to_string(best[j]) + "/";
      const arma::mat W = *ph.find(w + "W")->value, b = *ph.find(w + "b")->value;
      expected.col(j) = W * p.X.col(j) + b;
    }
    CHECK(arma::approx_equal(hp.output, expected, "absdiff", 1e-12));
  }
}

TEST_CASE("hard mixture: the flat hard mixture equals the hard tree of depth 1") {
  ModelSpec flat_spec = tree_spec(1, 3, "linear-gaussian", false);
  flat_spec.kind = "mixture";
  flat_spec.experts = 3;
  flat_spec.hard = true;
  ModelSpec tree_s = tree_spec(1, 3, "linear-gaussian", false);
  tree_s.hard = true;
  LocalExpertsMixture flat(flat_spec);
  HierarchicalMixture tree(tree_s);
  Rng rng(41);
  tree.init(rng);
  ParamList pf, pt;
  flat.collect(pf);
  tree.collect(pt);
  for (const auto& p : pt) {
    std::string name = p.name;
    if (name.rfind("gate0/", 0) == 0) name = "gate/" + name.substr(6);
    *pf.find(name)->value = *p.value;
  }
  Problem p = make_problem(2, 2, 30, false, 42);
  pf.zero_grad();
  pt.zero_grad();
  CHECK(flat.loss(p.X, p.Y, true) == doctest::Approx(tree.loss(p.X, p.Y, true)).epsilon(1e-14));
  CHECK(arma::approx_equal(pf.grads(), pt.grads(), "absdiff", 1e-13));
  CHECK(arma::approx_equal(flat.predict(p.X).output, tree.predict(p.X).output, "absdiff", 1e-13));
  CHECK(check_gradient(pf, [&](bool acc) { return flat.loss(p.X, p.Y, acc); }).max_relative_error < 1e-6);
}

TEST_CASE("online em: recursive least squares recovers a known mixture of two linear experts") {
  // y = 2x + 1 for x < 0, y = -x + 3 for x > 0, noise 0.05; a tree of depth 1 with two leaves.
  Rng rng(9);
  arma::mat X = rng.uniform_matrix(1, 3000, -2.0, 2.0), Y(1, 3000);
  for (arma::uword j = 0; j < 3000; ++j)
    Y(0, j) = (X(0, j) < 0 ? 2.0 * X(0, j) + 1.0 : -X(0, j) + 3.0) + 0.05 * rng.normal();
  ModelSpec s = tree_spec(1, 2, "linear-gaussian", false, 1, 1);
  s.gate_init_scale = 1.0;
  HierarchicalMixture model(s);
  model.init(rng);
  const double before = model.loss(X, Y, false);
  OnlineHmeRls online(model, 1, OnlineOptions{});
  for (int e = 0; e < 3; ++e) online.epoch(X, Y, rng);
  CHECK(online.lambda() > 0.999);  // 9000 observations: 0.99 moved 0.6 of its gap to 1 nine times
  CHECK(model.loss(X, Y, false) < before - 1.0);
  ParamList params;
  model.collect(params);
  arma::vec slopes = {params.find("expert0/W")->value->at(0), params.find("expert1/W")->value->at(0)};
  slopes = arma::sort(slopes);
  CHECK(slopes[0] == doctest::Approx(-1.0).epsilon(0.05));
  CHECK(slopes[1] == doctest::Approx(2.0).epsilon(0.05));
}

TEST_CASE("full covariance: equals the diagonal expert for one output, and EM recovers a correlated noise") {
  Rng rng(51);
  const arma::mat X = rng.normal_matrix(2, 2000);
  // One output: log p is the same as the diagonal expert's with log_var = 2 C_00.
  {
    auto full = make_expert("linear-gaussian-full", 2, 1, true);
    auto diag = make_expert("linear-gaussian", 2, 1, true);
    full->init(rng);
    ParamList pf, pd;
    full->collect(pf, "f/");
    diag->collect(pd, "d/");
    pf.find("f/chol")->value->fill(0.4);
    *pd.find("d/W")->value = *pf.find("f/W")->value;
    *pd.find("d/b")->value = *pf.find("f/b")->value;
    pd.find("d/log_var")->value->fill(0.8);
    const arma::mat Y = rng.normal_matrix(1, 2000);
    CHECK(arma::approx_equal(full->log_likelihood(X, Y), diag->log_likelihood(X, Y), "absdiff", 1e-12));
  }
  // Two outputs with noise covariance [[1, 0.8], [0.8, 1]] * 0.25: the weighted fit recovers it.
  arma::mat Lt = {{1.0, 0.0}, {0.8, 0.6}};
  Lt *= 0.5;
  const arma::mat A = {{1.0, -2.0}, {0.5, 3.0}};
  const arma::mat Y = A * X + Lt * rng.normal_matrix(2, 2000);
  auto full = make_expert("linear-gaussian-full", 2, 2, true);
  full->init(rng);
  full->fit(X, Y, arma::rowvec(2000, arma::fill::ones), IrlsOptions{});
  ParamList p;
  full->collect(p, "f/");
  arma::mat L = arma::trimatl(*p.find("f/chol")->value);
  L.diag() = arma::exp(L.diag());
  const arma::mat S = L * L.t(), S_true = Lt * Lt.t();
  CHECK(arma::abs(S - S_true).max() < 0.03);
  CHECK(arma::abs(*p.find("f/W")->value - A).max() < 0.05);
}
