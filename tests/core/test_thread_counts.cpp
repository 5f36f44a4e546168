// The OpenMP loops that only go parallel above a size (EM's blocked passes, IRLS, the softmax over many
// experts, the HME's gates and experts, the language-model head and its blocked GEMMs), run above it with
// 1 and 2 threads: the numbers must be identical (blocks are fixed by the sizes, partial sums added in
// block order). This is also what scripts/tsan.sh needs to see those loops run concurrently; smaller
// problems elsewhere in the suite run them on one thread.
#include <doctest/doctest.h>

#include "models/problems.hpp"

#include "moe/core/params.hpp"
#include "moe/core/threads.hpp"
#include "moe/lm/output_head.hpp"
#include "moe/models/hierarchical.hpp"
#include "moe/models/local_experts.hpp"

using namespace moe;
using moe::test::make_problem;
using moe::test::Problem;

namespace {

// 4096 points (16 blocks of 256), 8 experts: 8 x 4096 gate logits, above every threshold of the EM path.
constexpr arma::uword points = 4096;

ModelSpec spec(const std::string& kind, const std::string& expert) {
  ModelSpec s;
  s.kind = kind;
  s.task = expert == "softmax" ? Task::classification : Task::regression;
  s.inputs = 3;
  s.outputs = 3;
  s.experts = 8;
  s.depth = 3;
  s.branching = 2;
  s.expert = expert;
  s.gate_init_scale = 0.7;
  return s;
}

// Two EM steps, then the loss and its gradient: the log-likelihoods, the loss, parameters and gradients.
template <class M>
arma::vec em_then_gradient(const ModelSpec& s, const Problem& p, int threads) {
  set_threads(threads);
  M model(s);
  Rng rng(7);
  model.init(rng);
  EmOptions o;
  arma::vec out(3);
  out[0] = model.em_step(p.X, p.Y, o);
  out[1] = model.em_step(p.X, p.Y, o);
  ParamList params;
  model.collect(params);
  params.zero_grad();
  out[2] = model.loss(p.X, p.Y, true);
  return arma::join_cols(out, params.values(), params.grads());
}

}  // namespace

TEST_CASE("threads: EM and the gradient of a flat mixture and of an HME give the same numbers with 1 and 2 threads") {
  const int before = max_threads();
  for (const char* expert : {"linear-gaussian", "softmax"}) {
    CAPTURE(expert);
    const Problem p = make_problem(3, 3, points, std::string(expert) == "softmax", 11);
    const arma::vec flat1 = em_then_gradient<LocalExpertsMixture>(spec("mixture", expert), p, 1);
    const arma::vec flat2 = em_then_gradient<LocalExpertsMixture>(spec("mixture", expert), p, 2);
    CHECK(arma::approx_equal(flat1, flat2, "absdiff", 0.0));
    const arma::vec tree1 = em_then_gradient<HierarchicalMixture>(spec("hme", expert), p, 1);
    const arma::vec tree2 = em_then_gradient<HierarchicalMixture>(spec("hme", expert), p, 2);
    CHECK(arma::approx_equal(tree1, tree2, "absdiff", 0.0));
    CHECK(flat1.is_finite());
    CHECK(tree1.is_finite());
  }
  set_threads(before);
}

TEST_CASE("threads: the language-model head (mixture of softmaxes) gives the same numbers with 1 and 2 threads") {
  // V x (K N) = 64 x 2048 logits, 8 column blocks of the output-layer GEMMs.
  const arma::uword H = 16, d = 8, V = 64, K = 2, N = 1024;
  Rng data(3);
  const arma::mat C = data.normal_matrix(H, N);
  arma::mat ids(1, N);
  for (arma::uword n = 0; n < N; ++n) ids[n] = double(data.below(V));
  const int before = max_threads();
  arma::vec out[2];
  for (int t = 0; t < 2; ++t) {
    set_threads(t + 1);
    OutputHead head("mos", H, d, V, K);
    Rng rng(5);
    head.init(rng);
    ParamList params;
    head.collect(params);
    params.zero_grad();
    arma::mat dC;
    const arma::rowvec loss = head.loss(C, ids, 1.0 / double(N), &dC);
    out[t] = arma::join_cols(loss.t(), arma::vectorise(dC), params.grads(), arma::vectorise(head.log_prob(C)));
  }
  set_threads(before);
  CHECK(out[0].is_finite());
  CHECK(arma::approx_equal(out[0], out[1], "absdiff", 0.0));
}
