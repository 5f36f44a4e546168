// The expert-parallel sparse MoE layer on the compute backend against the one-process layer on the whole
// batch, with MPI processes as the ranks: every process builds the same problem, runs the one-process
// layer on all tokens (the reference) and the expert-parallel layer on its own columns, and compares
// (sparse/moe_layer_ranks.hpp). Run with P = 1, 2 and 4 processes; the splits include a process without
// tokens; the settings every per-token router with its losses, capacity overflow and shared experts.
#include <doctest/doctest.h>

#include <vector>

#include "moe/core/error.hpp"
#include "mpi_world.hpp"
#include "sparse/moe_layer_ranks.hpp"

using namespace moe;

namespace {

// Rank r's tokens: about (r + 1) shares of T, or none for the last rank.
std::vector<std::size_t> split(std::size_t T, std::size_t P, bool last_rank_empty) {
  std::vector<std::size_t> sizes(P, 0);
  const std::size_t holders = last_rank_empty && P > 1 ? P - 1 : P;
  std::size_t shares = 0;
  for (std::size_t r = 0; r < holders; ++r) shares += r + 1;
  std::size_t given = 0;
  for (std::size_t r = 0; r < holders; ++r) given += sizes[r] = T * (r + 1) / shares;
  sizes[0] += T - given;
  return sizes;
}

}  // namespace

TEST_CASE("expert-parallel layer on the backend equals the one-process layer, every per-token router") {
  Communicator& comm = world();
  const std::size_t P = std::size_t(comm.size()), me = std::size_t(comm.rank()), E = 5, T = 23;
  if (P > E) return;  // more processes than experts: refused, checked below
  for (const bool last_empty : {false, true}) {
    const std::vector<std::size_t> tokens = split(T, P, last_empty);
    std::size_t first = 0;
    for (std::size_t r = 0; r < me; ++r) first += tokens[r];
    for (const SparseLayerSpec& spec : test::settings()) {
      CAPTURE(spec.router);
      CAPTURE(last_empty);
      Rng data(3);
      const arma::mat X = data.normal_matrix(6, T, 1.0), dY = data.normal_matrix(6, T, 1.0);
      const test::LayerRun whole = test::run_layer(spec, E, X, dY, 0, T, nullptr);
      const test::LayerRun part = test::run_layer(spec, E, X, dY, first, tokens[me], &comm);
      double counts[2] = {double(test::check_part(part, whole, first, tokens[me])), part.aux_sum};
      comm.allreduce_sum(counts, 2);
      CHECK(counts[0] == double(4 * E));  // every expert held by exactly one process
      CHECK(counts[1] == doctest::Approx(whole.aux_sum).epsilon(1e-12));
    }
  }
}

TEST_CASE("expert-parallel layer on the backend refuses batch-wide routers and more processes than experts") {
  Communicator& comm = world();
  std::unique_ptr<Backend> b = make_backend("cpu", "double");
  BackendParams params(*b);
  SparseLayerSpec spec;
  spec.model_dim = 4, spec.ff_dim = 5;
  spec.router = "expert-choice";
  CHECK_THROWS_WITH_AS(MoeLayer(spec, 4, params, "", &comm), doctest::Contains("needs a per-token router"), Error);
  spec.router = "topk", spec.top_k = 1;
  if (comm.size() > 1)
    CHECK_THROWS_WITH_AS(MoeLayer(spec, std::size_t(comm.size()) - 1, params, "", &comm),
                         doctest::Contains("leaves a process without an expert"), Error);
}
