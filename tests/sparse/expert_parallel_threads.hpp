#pragma once
// The expert-parallel sparse layer with P ranks as threads of this process (ThreadGroup), or as MPI
// processes (tests/mpi, check_rank with the world communicator): every rank
// builds the layer with the same seed, passes its own columns of the batch, and is compared with the
// whole layer on all columns: outputs, input gradients, auxiliary losses, its experts' gradients and the
// replicated parameters' gradients summed over the ranks. The host all-to-all (CPU tests) or a GPU one
// (make_exchange: NCCL or the loopback, tests/sparse/test_cuda_expert_exchange.cpp).
#include <doctest/doctest.h>

#include <armadillo>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "moe/parallel/device_communicator.hpp"
#include "moe/parallel/thread_group.hpp"
#include "moe/sparse/sparse_moe_layer.hpp"

namespace moe::test {

// ||a - b|| / ||b|| (0 when both are empty or zero).
inline double relative_diff(const arma::mat& a, const arma::mat& b) {
  REQUIRE(arma::size(a) == arma::size(b));
  const double scale = arma::norm(b, "fro"), err = a.is_empty() ? 0.0 : arma::norm(a - b, "fro");
  return scale > 0 ? err / scale : err;
}

struct WholeLayerRun {
  arma::mat Y, dX;
  double aux = 0;
  std::map<std::string, arma::mat> grads;
};

// Every parameter, biases included (init leaves them 0), set from its own name: the whole layer and each
// rank's part get the same values for the same names.
inline void randomize_by_name(SparseMoeLayer& layer) {
  ParamList params;
  layer.collect(params, "");
  for (const Param& p : params) {
    Rng r(std::hash<std::string>{}(p.name));
    *p.value = r.normal_matrix(p.value->n_rows, p.value->n_cols, 0.4);
  }
}

// The layer on every column, one process (on spec.device).
inline WholeLayerRun run_whole_layer(const SparseLayerSpec& spec, arma::uword experts, const arma::mat& X,
                                     const arma::mat& dY, std::uint64_t seed) {
  SparseMoeLayer whole(spec, experts);
  Rng init(seed), noise(5);
  whole.init(init);
  randomize_by_name(whole);
  ParamList params;
  whole.collect(params, "");
  params.zero_grad();
  const MoeForward f = whole.forward(X, RouteContext{&noise, true, {}});
  WholeLayerRun r;
  r.dX = whole.backward(X, f, dY);
  r.Y = f.Y, r.aux = f.aux.total;
  for (const Param& p : params) r.grads[p.name] = *p.grad;
  return r;
}

// What rank `rank` uses to move its tokens between GPUs (null: the host Communicator does).
using MakeExchange = std::function<std::unique_ptr<DeviceCommunicator>(ThreadGroup&, Communicator&, int rank)>;

struct ThreadRanksCase {
  SparseLayerSpec spec;
  arma::uword experts = 8;
  std::vector<arma::uword> tokens_per_rank;  // P entries; a 0 is a rank without tokens
  double tolerance = 1e-10;                  // relative, every compared array
  std::uint64_t seed = 11;
};

// The same random problem on every rank (and in every thread): X and dY over all ranks' tokens.
struct RanksProblem {
  arma::mat X, dY;
  WholeLayerRun whole;
};

inline RanksProblem make_ranks_problem(const ThreadRanksCase& c) {
  arma::uword T = 0;
  for (const arma::uword n : c.tokens_per_rank) T += n;
  Rng data(7);
  RanksProblem p;
  p.X = data.normal_matrix(c.spec.model_dim, T);
  p.dY = data.normal_matrix(c.spec.model_dim, T);
  p.whole = run_whole_layer(c.spec, c.experts, p.X, p.dY, c.seed);
  return p;
}

// One rank's side: its layer on its columns against the whole layer. Collective over `host` (and
// `exchange`, when given: the all-to-all between GPUs).
inline void check_rank(const ThreadRanksCase& c, const RanksProblem& problem, Communicator& host,
                       DeviceCommunicator* exchange) {
  const int rank = host.rank();
  REQUIRE(std::size_t(host.size()) == c.tokens_per_rank.size());
  const arma::mat& X = problem.X;
  const arma::mat& dY = problem.dY;
  const WholeLayerRun& whole = problem.whole;
  SparseMoeLayer part(c.spec, c.experts, &host);
  Rng init(c.seed), noise(5);
  part.init(init);
  randomize_by_name(part);
  if (exchange) part.use_device_exchange(exchange);
  ParamList params, replicated;
  part.collect(params, "");
  part.collect_replicated(replicated, "");
  params.zero_grad();
  arma::uword first = 0;
  for (int r = 0; r < rank; ++r) first += c.tokens_per_rank[std::size_t(r)];
  const arma::uword n = c.tokens_per_rank[std::size_t(rank)];
  const arma::span mine = n ? arma::span(first, first + n - 1) : arma::span();
  const arma::mat Xr = n ? arma::mat(X.cols(mine)) : arma::mat(X.n_rows, 0);
  const arma::mat dYr = n ? arma::mat(dY.cols(mine)) : arma::mat(X.n_rows, 0);
  const std::uint64_t calls0 = exchange ? exchange->calls() : 0;
  const MoeForward f = part.forward(Xr, RouteContext{&noise, true, {}});
  const arma::mat dX = part.backward(Xr, f, dYr);
  const arma::mat Yw = n ? arma::mat(whole.Y.cols(mine)) : arma::mat(X.n_rows, 0);
  const arma::mat dXw = n ? arma::mat(whole.dX.cols(mine)) : arma::mat(X.n_rows, 0);
  CAPTURE(rank);
  CHECK(relative_diff(f.Y, Yw) <= c.tolerance);
  CHECK(relative_diff(dX, dXw) <= c.tolerance);
  CHECK(std::abs(f.aux.total - whole.aux) <= c.tolerance * std::max(1.0, std::abs(whole.aux)));
  for (const Param& p : params)
    if (p.name.rfind("expert", 0) == 0) {
      CAPTURE(p.name);
      CHECK(relative_diff(*p.grad, whole.grads.at(p.name)) <= c.tolerance);
    }
  for (const Param& p : replicated) {
    CAPTURE(p.name);
    arma::mat g = *p.grad;
    host.allreduce_sum(g.memptr(), g.n_elem);
    CHECK(relative_diff(g, whole.grads.at(p.name)) <= c.tolerance);
  }
  if (exchange) CHECK(exchange->calls() - calls0 == 4);  // two all-to-alls forward, two backward: on the GPU
}

// P = tokens_per_rank.size() ranks as threads of this process.
inline void check_thread_ranks(const ThreadRanksCase& c, const MakeExchange& make_exchange = nullptr) {
  const RanksProblem problem = make_ranks_problem(c);
  ThreadGroup group(int(c.tokens_per_rank.size()));
  group.run([&](int rank) {
    ThreadGroupCommunicator host(group, rank);
    std::unique_ptr<DeviceCommunicator> exchange = make_exchange ? make_exchange(group, host, rank) : nullptr;
    check_rank(c, problem, host, exchange.get());
  });
}

}  // namespace moe::test
