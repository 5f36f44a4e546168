// Expert parallelism in the oracle: a batch split into shards (threads as ranks, ShardSum over their
// communicator) gives every shard the whole batch's loss values, and each shard's gradient columns equal
// the whole batch's for its tokens; the bias update and a capacity plan with the other shards' prior
// claims likewise. Shards of 5, 0 and 7 tokens (an empty shard still takes part in every sum).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "backend/backend_op_cases.hpp"
#include "moe/backend/cpu_backend.hpp"
#include "moe/backend/routing_plan.hpp"
#include "moe/parallel/thread_group.hpp"
#include "moe/sparse/comm_token_shard.hpp"

namespace moe::test {

namespace {

constexpr std::size_t E = 4, K = 2;
const std::vector<std::size_t> shard_tokens = {5, 0, 7};

// What one run of the ops gives: loss values, then gradients and other per-token outputs, column-major
// with E (or k) values per token, and per-expert outputs.
struct Outputs {
  std::vector<double> values;
  std::vector<std::vector<double>> per_token;  // each: rows x this run's tokens
  std::vector<std::size_t> rows;
  std::vector<std::vector<double>> per_expert;  // the same on every shard
};

// The inputs of the whole batch, column t from its own seed, so a shard's columns are the whole's.
std::vector<double> columns(std::size_t rows, std::size_t first, std::size_t n, std::uint64_t seed, double scale) {
  std::vector<double> out;
  for (std::size_t t = first; t < first + n; ++t) {
    const std::vector<double> c = randn(rows, seed * 1000 + t, scale);
    out.insert(out.end(), c.begin(), c.end());
  }
  return out;
}

// Every op that takes a shard, on columns [first, first + n) of the batch.
Outputs run_ops(std::size_t first, std::size_t n, const ShardSum* shard, const TokenShard* claims) {
  std::unique_ptr<Backend> b = make_cpu_backend(Precision::f64);
  auto make = [&](std::size_t rows, std::size_t cols, const std::vector<double>& v) {
    Tensor t = b->tensor(rows, cols);
    if (!v.empty()) b->upload(t, v.data());
    return t;
  };
  Tensor Z = make(E, n, columns(E, first, n, 1, 1.5)), Nl = make(E, n, columns(E, first, n, 2, 1.0)),
         eps = make(E, n, columns(E, first, n, 3, 1.0));
  Tensor P = b->tensor(E, n), lse = b->tensor(1, n), H = b->tensor(E, n);
  b->softmax_columns(Z, P, &lse);
  b->noisy_logits(Z, Nl, eps, H);
  Outputs out;
  auto grad = [&](std::size_t rows) { return b->zeros(rows, n); };
  auto keep = [&](const Tensor& t) {
    out.per_token.push_back(b->to_host(t));
    out.rows.push_back(t.rows());
  };
  Tensor acc = b->zeros(1, 1), dZ = grad(E);
  b->switch_loss(Z, P, 0.7, acc, dZ, shard);
  out.values.push_back(b->scalar(acc));
  keep(dZ);
  acc = b->zeros(1, 1), dZ = grad(E);
  b->z_loss(P, lse, 0.3, acc, dZ, shard);
  out.values.push_back(b->scalar(acc));
  keep(dZ);
  acc = b->zeros(1, 1), dZ = grad(E);
  Tensor dN = grad(E);
  b->smooth_load_loss(Z, Nl, H, eps, K, 0.9, acc, dZ, dN, shard);
  out.values.push_back(b->scalar(acc));
  keep(dZ);
  keep(dN);
  // A top-2 plan with capacity: every slot of every token claims a place in the batch's priority order.
  DevicePlan plan;
  plan.tokens = n, plan.experts = E, plan.k = K;
  plan.capacity = expert_capacity(shard_tokens[0] + shard_tokens[1] + shard_tokens[2], E, K, 0.75);
  plan.slot_expert = b->tensor(K, n, DType::i32);
  plan.slot_weight = b->tensor(K, n);
  b->top_k(Z, nullptr, K, plan.slot_expert);
  b->slot_weights(P, plan.slot_expert, true, plan.slot_weight);
  if (claims) {  // this shard's slot-major claims, and what the others claim ahead of them
    std::vector<std::int32_t> se(K * n);
    if (n > 0) b->download(plan.slot_expert, se.data());
    std::vector<std::int64_t> mine(K * E, 0);
    for (std::size_t t = 0; t < n; ++t)
      for (std::size_t s = 0; s < K; ++s) ++mine[s * E + std::size_t(se[t * K + s])];
    plan.prior_claims = claims->prior_claims(mine, E);
  }
  b->build_plan(plan);
  std::vector<std::int64_t> pos(K * n);
  if (n > 0) b->download(plan.slot_position, pos.data());
  std::vector<double> kept(K * n);
  for (std::size_t i = 0; i < pos.size(); ++i) kept[i] = pos[i] >= 0;
  out.per_token.push_back(kept);
  out.rows.push_back(K);
  acc = b->zeros(1, 1);
  Tensor dw = grad(K);
  b->importance_loss(plan, 0.5, acc, dw, shard);
  out.values.push_back(b->scalar(acc));
  keep(dw);
  Tensor bias = b->zeros(E, 1);
  b->bias_update(plan, 0.01, bias, shard);
  out.per_expert.push_back(b->to_host(bias));
  return out;
}

}  // namespace

TEST_CASE("backend oracle: sharded balancing losses, bias update and capacity equal the whole batch's") {
  std::size_t total = 0;
  for (const std::size_t n : shard_tokens) total += n;
  const Outputs whole = run_ops(0, total, nullptr, nullptr);
  const int P = int(shard_tokens.size());
  std::vector<Outputs> parts(std::size_t(P), Outputs{});
  ThreadGroup group(P);
  group.run([&](int rank) {
    ThreadGroupCommunicator comm(group, rank);
    CommunicatorSum sum(comm);
    CommTokenShard shard(comm, shard_tokens[std::size_t(rank)]);
    parts[std::size_t(rank)] = run_ops(shard.offset(), shard_tokens[std::size_t(rank)], &sum, &shard);
  });
  std::size_t first = 0;
  for (std::size_t r = 0; r < parts.size(); ++r) {
    CAPTURE(r);
    const Outputs& part = parts[r];
    REQUIRE(part.values.size() == whole.values.size());
    for (std::size_t i = 0; i < whole.values.size(); ++i) {
      CAPTURE(i);
      CHECK(whole.values[i] > 0.0);  // a loss that is there to be matched
      CHECK(part.values[i] == doctest::Approx(whole.values[i]).epsilon(1e-12));
    }
    for (std::size_t j = 0; j < whole.per_token.size(); ++j) {
      CAPTURE(j);
      const std::size_t rows = whole.rows[j];
      for (std::size_t t = 0; t < shard_tokens[r]; ++t)
        for (std::size_t i = 0; i < rows; ++i)
          CHECK(part.per_token[j][t * rows + i] ==
                doctest::Approx(whole.per_token[j][(first + t) * rows + i]).epsilon(1e-12).scale(1e-12));
    }
    for (std::size_t j = 0; j < whole.per_expert.size(); ++j)
      for (std::size_t e = 0; e < E; ++e) CHECK(part.per_expert[j][e] == whole.per_expert[j][e]);
    first += shard_tokens[r];
  }
  double moved = 0;
  for (const double b : whole.per_expert[0]) moved = std::max(moved, std::abs(b));
  CHECK(moved > 0.0);  // a bias that moved, to be matched
  // The capacity drops something, and the sharded plan drops the same slots.
  double kept = 0;
  for (const double k : whole.per_token[4]) kept += k;
  CHECK(kept < double(K * total));
}

}  // namespace moe::test

namespace moe::test {

// The expert-parallel algorithm at one process: gather the kept slots' inputs in the plan's sorted order,
// run the experts on them as a plan of their own (k = 1, weight 1), combine_slots them back with the slot
// weights; backward through combine_slots_backward, the experts, and combine_slots with weight 1. Every
// output and gradient equals the routed FFN op's, drops included.
TEST_CASE("backend oracle: gather, the experts on sorted columns and combine_slots equal the routed FFN op") {
  std::unique_ptr<Backend> b = make_cpu_backend(Precision::f64);
  const std::size_t T = 40, d = 6, f = 8, E = 4, k = 2;
  auto make = [&](std::size_t rows, std::size_t cols, std::uint64_t seed, double scale = 1.0) {
    Tensor t = b->tensor(rows, cols);
    b->upload(t, randn(rows * cols, seed, scale).data());
    return t;
  };
  Tensor Lg = make(E, T, 1, 2.0), P = b->tensor(E, T);
  b->softmax_columns(Lg, P, nullptr);
  DevicePlan plan;
  plan.tokens = T, plan.experts = E, plan.k = k, plan.capacity = 12;
  plan.slot_expert = b->tensor(k, T, DType::i32);
  plan.slot_weight = b->tensor(k, T);
  b->top_k(Lg, nullptr, k, plan.slot_expert);
  b->slot_weights(P, plan.slot_expert, true, plan.slot_weight);
  b->build_plan(plan);
  ExpertBank w{make(f, d * E, 2, 0.5), make(f, E, 3, 0.5), make(d, f * E, 4, 0.5), make(d, E, 5, 0.5)};
  auto zero_bank = [&] { return ExpertBank{b->zeros(f, d * E), b->zeros(f, E), b->zeros(d, f * E), b->zeros(d, E)}; };
  Tensor X = make(d, T, 6), dY = make(d, T, 7);
  // The op.
  Tensor Y_ref = b->tensor(d, T), dX_ref = b->tensor(d, T), dw_ref = b->tensor(k, T);
  ExpertBank g_ref = zero_bank();
  std::unique_ptr<OpCache> cache;
  b->routed_ffn_forward(plan, w, FfnActivation::relu, X, true, Y_ref, cache);
  b->routed_ffn_backward(plan, w, FfnActivation::relu, dY, true, dX_ref, g_ref, dw_ref, cache);
  // The composition.
  std::vector<std::int64_t> offsets(E + 1);
  b->download(plan.expert_offsets, offsets.data());
  const std::size_t A = std::size_t(offsets[E]);
  REQUIRE(A < T * k);  // the capacity drops some slots
  std::vector<std::int32_t> sorted(T * k);
  b->download(plan.sorted_token, sorted.data());
  std::vector<std::int64_t> idx(sorted.begin(), sorted.begin() + std::ptrdiff_t(A));
  std::vector<std::int32_t> expert_of(A);
  std::vector<double> ones(A, 1.0);
  for (std::size_t e = 0; e < E; ++e)
    for (std::int64_t i = offsets[e]; i < offsets[e + 1]; ++i) expert_of[std::size_t(i)] = std::int32_t(e);
  Tensor index = b->tensor(A, 1, DType::i64), inputs = b->tensor(d, A), outs = b->tensor(d, A);
  b->upload(index, idx.data());
  b->gather_columns(X, index, inputs);
  DevicePlan received;
  received.tokens = A, received.experts = E, received.k = 1, received.capacity = 0;
  received.slot_expert = b->tensor(1, A, DType::i32);
  received.slot_weight = b->tensor(1, A);
  b->upload(received.slot_expert, expert_of.data());
  b->upload(received.slot_weight, ones.data());
  b->build_plan(received);
  std::unique_ptr<OpCache> expert_cache;
  b->routed_ffn_forward(received, w, FfnActivation::relu, inputs, false, outs, expert_cache);
  Tensor Y = b->tensor(d, T);
  b->copy(X, Y);
  b->combine_slots(plan, outs, true, Y);
  Tensor douts = b->tensor(d, A), dw = b->tensor(k, T), dinputs = b->tensor(d, A), unused = b->tensor(1, A);
  b->combine_slots_backward(plan, outs, dY, douts, dw);
  ExpertBank g = zero_bank();
  b->routed_ffn_backward(received, w, FfnActivation::relu, douts, false, dinputs, g, unused, expert_cache);
  Tensor dX = b->tensor(d, T);
  b->copy(dY, dX);
  b->combine_slots(plan, dinputs, false, dX);
  auto same = [&](const Tensor& a, const Tensor& ref) {
    const std::vector<double> x = b->to_host(a), y = b->to_host(ref);
    REQUIRE(x.size() == y.size());
    double worst = 0, scale = 0;
    for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(x[i] - y[i])), scale = std::max(scale, std::abs(y[i]));
    CHECK(scale > 0.0);
    CHECK(worst <= 1e-12 * scale);
  };
  same(Y, Y_ref);
  same(dw, dw_ref);
  same(dX, dX_ref);
  same(g.W1, g_ref.W1);
  same(g.b1, g_ref.b1);
  same(g.W2, g_ref.W2);
  same(g.b2, g_ref.b2);
}

}  // namespace moe::test
