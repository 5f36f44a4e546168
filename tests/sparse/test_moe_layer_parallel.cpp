// The backend's sparse MoE layer under expert parallelism, processes as threads (ThreadGroup): every
// process builds the layer from the same seed, passes its own columns of the batch and is compared with
// the one-process layer on all of them, in double (moe_layer_ranks.hpp). Uneven placements (5 experts
// over 2 and 3 processes), a process without tokens, and one process with a communicator.
#include <doctest/doctest.h>

#include "moe/parallel/thread_group.hpp"
#include "sparse/moe_layer_ranks.hpp"

using namespace moe;

TEST_CASE("sparse MoE layer on the backend: expert parallelism over threads equals one process") {
  const std::size_t E = 5;
  for (const std::vector<std::size_t>& tokens :
       {std::vector<std::size_t>{17}, std::vector<std::size_t>{9, 8}, std::vector<std::size_t>{7, 0, 9}}) {
    std::size_t N = 0;
    for (const std::size_t t : tokens) N += t;
    for (const SparseLayerSpec& spec : test::settings()) {
      CAPTURE(spec.router);
      CAPTURE(tokens.size());
      Rng data(3);
      const arma::mat X = data.normal_matrix(6, N, 1.0), dY = data.normal_matrix(6, N, 1.0);
      const test::LayerRun whole = test::run_layer(spec, E, X, dY, 0, N, nullptr);
      const int P = int(tokens.size());
      std::vector<test::LayerRun> parts(tokens.size());
      ThreadGroup group(P);
      group.run([&](int rank) {
        ThreadGroupCommunicator comm(group, rank);
        std::size_t first = 0;
        for (int r = 0; r < rank; ++r) first += tokens[std::size_t(r)];
        parts[std::size_t(rank)] = test::run_layer(spec, E, X, dY, first, tokens[std::size_t(rank)], &comm);
      });
      std::size_t first = 0, experts_seen = 0;
      double aux = 0;
      for (std::size_t r = 0; r < parts.size(); ++r) {
        CAPTURE(r);
        experts_seen += test::check_part(parts[r], whole, first, tokens[r]);
        aux += parts[r].aux_sum;
        first += tokens[r];
      }
      CHECK(experts_seen == 4 * E);  // every expert held exactly once
      CHECK(aux == doctest::Approx(whole.aux_sum).epsilon(1e-12));
      if (spec.capacity_factor > 0) CHECK(whole.log.dropped_fraction[0] > 0.0);  // the capacity bites
    }
  }
}
