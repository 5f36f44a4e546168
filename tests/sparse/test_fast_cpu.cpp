// The fast CPU kernel of the routed experts (backend/cpu_sparse_ffn) against the reference (per-token
// Armadillo products, routing_cases.hpp) on hand-made routing plans: random top-k with and
// without dropped slots, empty experts, every token on one expert, k = E, one expert, no tokens. In double
// the two agree to rounding; in float the fast kernel stays within 1e-5 (relative, over each output
// array) of the double reference. Outputs start poisoned (NaN), so an element left unwritten fails; the
// gradients start at a known value, so "adds to" is checked too (and poisoned in overwrite mode). Thread counts give identical bits.
#include <doctest/doctest.h>

#include <algorithm>
#include <limits>

#include "moe/core/rng.hpp"
#include "moe/backend/cpu_sparse_ffn.hpp"
#include "moe/core/threads.hpp"
#include "sparse/routing_cases.hpp"

using namespace moe;

namespace {

using PlanCase = moe::test::RoutingCase;
using moe::test::as_vec;
using moe::test::cast;
using moe::test::random_plan;
using moe::test::relative_error;

std::vector<PlanCase> plan_cases() {
  std::vector<PlanCase> cases{
      {"random top-2, dropless", 57, 6, 2, 17, 33, 0.0, 6},
      {"random top-2, capacity 0.6 drops slots, gelu", 64, 5, 2, 9, 20, 0.6, 5, FfnActivation::gelu},
      {"empty experts (only 2 of 7 chosen)", 40, 7, 2, 8, 12, 0.0, 2},
      {"every token on one expert", 70, 4, 1, 16, 130, 0.0, 1},
      {"k = E = 3", 33, 3, 3, 5, 7, 0.0, 3},
      {"one expert", 21, 1, 1, 3, 4, 0.0, 1},
      {"one token, top-3 of 8", 1, 8, 3, 6, 6, 0.0, 8},
      {"no tokens", 0, 4, 2, 4, 5, 0.0, 4},
      {"wide rows, many blocks (d 200, f 300, 600 tokens)", 600, 3, 2, 200, 300, 0.9, 3, FfnActivation::gelu},
  };
  // And random shapes (fixed seed): sizes, k, experts used, capacity and activation drawn at random.
  Rng rng(2024);
  for (int i = 0; i < 12; ++i) {
    PlanCase c;
    c.tokens = 1 + rng.below(300), c.experts = 1 + rng.below(12), c.k = 1 + rng.below(c.experts);
    c.experts_used = c.k + rng.below(c.experts - c.k + 1);
    c.d = 1 + rng.below(70), c.f = 1 + rng.below(150);
    c.capacity_factor = rng.uniform() < 0.4 ? 0.5 + rng.uniform() : 0.0;
    c.activation = rng.uniform() < 0.5 ? FfnActivation::relu : FfnActivation::gelu;
    c.name = "random " + std::to_string(i) + ": T " + std::to_string(c.tokens) + ", E " + std::to_string(c.experts) +
             ", k " + std::to_string(c.k) + ", d " + std::to_string(c.d) + ", f " + std::to_string(c.f);
    cases.push_back(c);
  }
  return cases;
}

using Result = moe::test::FfnResult;
using moe::test::HostBank;

constexpr double grad_start = 0.25;  // gradients start here; backends add to them

// The fast kernel in element type T on copies of the bank's (double) weights, with poisoned outputs.
// overwrite: the gradients start poisoned too (NaN) and must come out as this call's gradients.
template <class T>
Result run_fast(const RoutingPlan& plan, const HostBank& bank, const arma::mat& X, const arma::mat& dY,
                kernels::GradMode mode = kernels::GradMode::accumulate) {
  const kernels::ExpertWeights<double> w64 = bank.weights();  // cast to T below
  const std::size_t d = w64.d, f = w64.f, E = w64.experts, A = plan.assignments(), T_ = plan.tokens;
  std::vector<T> W1 = cast<T>(w64.W1, f * d * E), b1 = cast<T>(w64.b1, f * E), W2 = cast<T>(w64.W2, d * f * E),
                 b2 = cast<T>(w64.b2, d * E), x = cast<T>(X.memptr(), d * T_), dy = cast<T>(dY.memptr(), d * T_),
                 weight = cast<T>(plan.sorted_weight.data(), A);
  const kernels::ExpertWeights<T> w{d, f, E, W1.data(), b1.data(), W2.data(), b2.data()};
  const T nan = std::numeric_limits<T>::quiet_NaN();
  std::vector<T> Y(d * T_, nan), dX(d * T_, nan), dweight(A, nan);
  const bool overwrite = mode == kernels::GradMode::overwrite;
  const T start = overwrite ? nan : T(grad_start);
  std::vector<T> gW1(W1.size(), start), gb1(b1.size(), start), gW2(W2.size(), start), gb2(b2.size(), start);
  kernels::SparseFfnWorkspace<T> ws;
  // Poison the workspace too: a stale value read from it would show.
  for (auto* b : {&ws.inputs, &ws.pre, &ws.act, &ws.out, &ws.dout, &ws.dh, &ws.dinputs}) {
    T* p = b->resize(std::max<std::size_t>(1, (d + f) * A));
    std::fill(p, p + (d + f) * A, nan);
  }
  const kernels::PlanView view = plan_view(plan);
  kernels::sparse_ffn_forward<T>(view, weight.data(), w, bank.activation, x.data(), true, Y.data(), ws);
  kernels::sparse_ffn_backward<T>(view, weight.data(), w, bank.activation, dy.data(), true, dX.data(),
                                  {gW1.data(), gb1.data(), gW2.data(), gb2.data()}, dweight.data(), ws, mode);
  Result r;
  r.Y = as_vec(Y.data(), Y.size());
  r.dX = as_vec(dX.data(), dX.size());
  // dweight comes in sorted order; the reference gives it per slot.
  r.dweight.zeros(plan.slot_weight.size());
  for (std::size_t i = 0; i < A; ++i) r.dweight[plan.sorted_slot[i]] = double(dweight[i]);
  const double offset = overwrite ? 0.0 : grad_start;
  r.dW1 = as_vec(gW1.data(), gW1.size()) - offset;
  r.db1 = as_vec(gb1.data(), gb1.size()) - offset;
  r.dW2 = as_vec(gW2.data(), gW2.size()) - offset;
  r.db2 = as_vec(gb2.data(), gb2.size()) - offset;
  return r;
}

void check_close(const Result& got, const Result& want, double tol) {
  CHECK(relative_error(got.Y, want.Y) < tol);
  CHECK(relative_error(got.dX, want.dX) < tol);
  CHECK(relative_error(got.dweight, want.dweight) < tol);
  CHECK(relative_error(got.dW1, want.dW1) < tol);
  CHECK(relative_error(got.db1, want.db1) < tol);
  CHECK(relative_error(got.dW2, want.dW2) < tol);
  CHECK(relative_error(got.db2, want.db2) < tol);
}

}  // namespace

TEST_CASE("fast CPU sparse kernel matches the per-token reference (double to rounding, float within 1e-5)") {
  set_threads(0);
  for (const PlanCase& c : plan_cases()) {
    CAPTURE(c.name);
    Rng rng(3);
    const RoutingPlan plan = random_plan(c, rng);
    if (c.capacity_factor > 0.0 && c.tokens > 0 && c.name.rfind("random", 0) != 0) CHECK(!plan.dropped.empty());
    const arma::mat X = rng.normal_matrix(c.d, c.tokens), dY = rng.normal_matrix(c.d, c.tokens);
    Rng init(11);
    const HostBank bank = moe::test::random_bank(c.d, c.f, c.experts, c.activation, init);
    const Result ref = moe::test::reference_ffn(plan, bank, X, dY);
    // The reference itself: a dropped or empty slot has no gradient, a kept one does.
    for (std::size_t slot = 0; slot < plan.slot_position.size(); ++slot)
      if (plan.slot_position[slot] < 0) CHECK(ref.dweight[slot] == 0.0);
    check_close(run_fast<double>(plan, bank, X, dY), ref, 1e-12);
    check_close(run_fast<float>(plan, bank, X, dY), ref, 1e-5);
    check_close(run_fast<float>(plan, bank, X, dY, kernels::GradMode::overwrite), ref, 1e-5);
    check_close(run_fast<double>(plan, bank, X, dY, kernels::GradMode::overwrite), ref, 1e-12);
  }
}

TEST_CASE("fast CPU sparse kernel gives the same bits with 1 and 2 threads") {
  const PlanCase c{"imbalanced top-2", 900, 6, 2, 64, 192, 0.0, 6};
  Rng rng(5);
  // Skew the load: most tokens prefer expert 0, so its rows are cut into several blocks.
  RoutingPlan plan = random_plan(c, rng);
  std::vector<std::int32_t> expert = plan.slot_expert;
  for (std::size_t t = 0; t < c.tokens; t += 1)
    if (t % 5 != 0 && expert[t * 2] != 0 && expert[t * 2 + 1] != 0) expert[t * 2] = 0;
  plan = make_plan(c.tokens, c.experts, c.k, expert, plan.slot_weight, 0);
  const arma::mat X = rng.normal_matrix(c.d, c.tokens), dY = rng.normal_matrix(c.d, c.tokens);
  Rng init(11);
  const HostBank bank = moe::test::random_bank(c.d, c.f, c.experts, c.activation, init);
  set_threads(1);
  const Result one = run_fast<float>(plan, bank, X, dY);
  set_threads(2);
  const Result two = run_fast<float>(plan, bank, X, dY);
  set_threads(0);
  CHECK(arma::approx_equal(one.Y, two.Y, "absdiff", 0.0));
  CHECK(arma::approx_equal(one.dX, two.dX, "absdiff", 0.0));
  CHECK(arma::approx_equal(one.dW1, two.dW1, "absdiff", 0.0));
  CHECK(arma::approx_equal(one.dW2, two.dW2, "absdiff", 0.0));
  CHECK(arma::approx_equal(one.dweight, two.dweight, "absdiff", 0.0));
}
