// Central-difference gradient checks (double precision) of the language model with each output head,
// with token-id targets and with distribution targets, and the perplexity of a hand-computed case.
#include <doctest/doctest.h>

#include <cmath>

#include "moe/core/gradient_check.hpp"
#include "moe/lm/language_model.hpp"
#include "moe/models/model.hpp"

using namespace moe;

namespace {

ModelSpec lm_spec(const std::string& head, arma::uword K) {
  ModelSpec s;
  s.kind = "lm";
  s.task = Task::lm;
  s.inputs = 2;    // context tokens
  s.outputs = 7;   // V
  s.experts = K;
  s.head = head;
  s.embedding = 3;
  s.hidden = 5;
  s.projection = 4;
  s.tokenizer = "word";
  return s;
}

// Random contexts (2 x N ids) and targets: ids (1 x N) or distributions (V x N).
void problem(arma::uword N, bool distributions, arma::mat& X, arma::mat& Y, std::uint64_t seed) {
  Rng rng(seed);
  X.set_size(2, N);
  for (double& v : X) v = double(rng.below(7));
  if (distributions) {
    Y = arma::exp(rng.normal_matrix(7, N));
    Y.each_row() /= arma::sum(Y, 0);
  } else {
    Y.set_size(1, N);
    for (double& v : Y) v = double(rng.below(7));
  }
}

}  // namespace

TEST_CASE("lm gradient: softmax, MoS and MoC heads, id and distribution targets") {
  for (const std::string head : {"softmax", "mos", "moc"}) {
    for (bool dist : {false, true}) {
      CAPTURE(head);
      CAPTURE(dist);
      auto model = make_model(lm_spec(head, 3));
      Rng rng(11);
      model->init(rng);
      ParamList params;
      model->collect(params);
      arma::mat X, Y;
      problem(9, dist, X, Y, 12);
      auto loss = [&](bool acc) { return model->loss(X, Y, acc); };
      // Floor 1e-4: gradient entries of ~1e-5 (deep in the encoder) are compared absolutely; the central
      // difference's round-off is ~eps * loss / h = 4e-11, which would read as a 1e-6 relative error there.
      const GradientCheck g = check_gradient(params, loss, 1e-5, 1e-4);
      CHECK(g.max_relative_error < 1e-6);
      CHECK(g.max_abs_error < 1e-9);
      CHECK(arma::norm(g.analytic) > 1e-3);
      // The mean of the per-token losses is the loss.
      CHECK(arma::mean(model->pointwise_loss(X, Y)) == doctest::Approx(model->loss(X, Y, false)).epsilon(1e-12));
    }
  }
}

TEST_CASE("lm gradient: a sparse MoE layer between the encoder and the softmax head (top-2 + z-loss, hash)") {
  for (const std::string router : {"topk", "hash"}) {
    CAPTURE(router);
    ModelSpec s = lm_spec("softmax", 4);
    s.moe_layer = true;
    s.sparse.router = router;
    s.sparse.model_dim = s.hidden;
    s.sparse.ff_dim = 6;
    s.sparse.z_loss = router == "topk" ? 0.1 : 0.0;
    s.sparse.w_importance = router == "topk" ? 0.2 : 0.0;
    auto model = make_model(s);
    Rng rng(13);
    model->init(rng);
    ParamList params;
    model->collect(params);
    CHECK(params.find("moe/expert3/W1") != nullptr);
    arma::mat X, Y;
    problem(9, false, X, Y, 14);
    const GradientCheck g = check_gradient(params, [&](bool acc) { return model->loss(X, Y, acc); }, 1e-5, 1e-4);
    CHECK(g.max_relative_error < 1e-6);
    CHECK(arma::norm(g.analytic) > 1e-3);
    // Hash routing sends tokens with the same last context word to the same expert.
    const arma::mat W = model->gate(X);
    REQUIRE(W.n_rows == 4);
    if (router == "hash")
      for (arma::uword a = 0; a < X.n_cols; ++a)
        for (arma::uword b = 0; b < X.n_cols; ++b)
          if (X(1, a) == X(1, b)) CHECK(W.col(a).index_max() == W.col(b).index_max());
  }
}

TEST_CASE("lm gradient: the relu encoder and a head of one component") {
  ModelSpec s = lm_spec("mos", 1);
  s.activation = "relu";
  auto model = make_model(s);
  Rng rng(3);
  model->init(rng);
  ParamList params;
  model->collect(params);
  arma::mat X, Y;
  problem(8, false, X, Y, 4);
  const GradientCheck g = check_gradient(params, [&](bool acc) { return model->loss(X, Y, acc); });
  CHECK(g.max_relative_error < 1e-6);
}

TEST_CASE("lm perplexity: logits (1, 0, -1) give perplexity e + 1 + 1/e on targets 0, 1, 2") {
  // d = 1: h = tanh(b) = 1/2 for every context (projection weights 0), W = (2, 0, -2)' so logits are
  // (1, 0, -1). -log p_w = lse - z_w with lse = log(e + 1 + 1/e); the mean over targets 0, 1, 2 is lse.
  ModelSpec s = lm_spec("softmax", 1);
  s.outputs = 3;
  s.projection = 1;
  for (const std::string head : {"softmax", "mos", "moc"}) {
    CAPTURE(head);
    s.head = head;
    s.experts = head == "softmax" ? 1 : 2;
    auto model = make_model(s);
    Rng rng(1);
    model->init(rng);
    ParamList params;
    model->collect(params);
    params.find("proj/W")->value->zeros();
    params.find("proj/b")->value->fill(std::atanh(0.5));  // every component: h = 1/2
    *params.find("output/W")->value = arma::mat(arma::vec{2.0, 0.0, -2.0});
    const arma::mat X = {{0, 1, 2}, {2, 0, 1}};
    const arma::mat Y = {{0, 1, 2}};
    const double lse = std::log(std::exp(1.0) + 1.0 + std::exp(-1.0));
    const arma::rowvec l = model->pointwise_loss(X, Y);
    CHECK(l[0] == doctest::Approx(lse - 1.0).epsilon(1e-12));
    CHECK(l[1] == doctest::Approx(lse).epsilon(1e-12));
    CHECK(l[2] == doctest::Approx(lse + 1.0).epsilon(1e-12));
    CHECK(std::exp(arma::mean(l)) == doctest::Approx(std::exp(1.0) + 1.0 + std::exp(-1.0)).epsilon(1e-12));
    // The same targets as distributions (one-hot columns) give the same losses.
    CHECK(arma::abs(model->pointwise_loss(X, arma::mat(arma::eye(3, 3))) - l).max() < 1e-12);
  }
}

TEST_CASE("lm: MoS of two softmaxes mixes probabilities, MoC mixes contexts") {
  // Two components with h = +1/2 and -1/2, W = (2, 0, -2)': component logits (1, 0, -1) and (-1, 0, 1).
  // The prior is uniform (prior weights 0). MoS: P = (s(1,0,-1) + s(-1,0,1)) / 2; MoC: h = 0, P uniform.
  ModelSpec s = lm_spec("mos", 2);
  s.outputs = 3;
  s.projection = 1;
  const double e = std::exp(1.0), z = e + 1.0 + 1.0 / e;
  for (const std::string head : {"mos", "moc"}) {
    CAPTURE(head);
    s.head = head;
    auto model = make_model(s);
    Rng rng(1);
    model->init(rng);
    ParamList params;
    model->collect(params);
    params.find("proj/W")->value->zeros();
    *params.find("proj/b")->value = arma::mat(arma::vec{std::atanh(0.5), -std::atanh(0.5)});
    *params.find("output/W")->value = arma::mat(arma::vec{2.0, 0.0, -2.0});
    params.find("prior/W")->value->zeros();
    params.find("prior/b")->value->zeros();
    const arma::mat X(arma::vec{0.0, 1.0});
    const arma::mat P = arma::exp(static_cast<LanguageModel&>(*model).log_prob(X));
    const arma::vec want = head == "mos" ? arma::vec{(e + 1 / e) / (2 * z), 1 / z, (e + 1 / e) / (2 * z)}
                                         : arma::vec{1.0 / 3, 1.0 / 3, 1.0 / 3};
    CHECK(arma::abs(P.col(0) - want).max() < 1e-12);
  }
}
