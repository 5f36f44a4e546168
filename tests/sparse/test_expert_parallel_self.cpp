// The expert-parallel path of the sparse layer with the one-process Communicator (SelfCommunicator): the
// exchange, the shard view of the routers and losses and the gradient bookkeeping run without MPI, so
// this part is checked in every build (tests/mpi checks P = 1, 2, 4 ranks under mpirun where MPI is
// built). Reference: the same layer without a communicator.
#include <doctest/doctest.h>

#include <algorithm>

#include "moe/parallel/communicator.hpp"
#include "moe/sparse/router_registry.hpp"
#include "moe/sparse/sparse_moe_layer.hpp"

using namespace moe;

TEST_CASE("sparse layer with the one-process communicator equals the layer without one (every per-token router)") {
  int routers = 0;
  for (const RouterEntry& entry : RouterRegistry::instance().entries()) {
    if (!entry.traits.routed || entry.traits.batch_wide_in_training) continue;  // expert parallelism refuses these
    ++routers;
    const std::string& router = entry.name;
    CAPTURE(router);
    auto reads = [&](const char* flag) { return std::find(entry.flags.begin(), entry.flags.end(), flag) != entry.flags.end(); };
    SparseLayerSpec spec;
    spec.router = router;
    spec.model_dim = 5;
    spec.ff_dim = 7;
    spec.top_k = reads("top-k") ? 2 : 1;
    spec.capacity_factor = 0.7;  // slots dropped in training
    spec.router_init_scale = 1.0;
    spec.z_loss = entry.traits.has_logits ? 0.01 : 0.0;
    spec.w_load = reads("w-load") ? 0.1 : 0.0;
    SelfCommunicator self;
    SparseMoeLayer plain(spec, 4), parallel(spec, 4, &self);
    Rng a(3), b(3);
    plain.init(a);
    parallel.init(b);
    ParamList pp, pq;
    plain.collect(pp, "");
    parallel.collect(pq, "");
    Rng data(9);
    const arma::mat X = data.normal_matrix(5, 61), dY = data.normal_matrix(5, 61);
    Rng n1(4), n2(4);
    const MoeForward f1 = plain.forward(X, RouteContext{&n1, true, {}});
    const MoeForward f2 = parallel.forward(X, RouteContext{&n2, true, {}});
    CHECK(!f1.routing.plan.dropped.empty());
    CHECK(f2.exchange != nullptr);
    const arma::mat d1 = plain.backward(X, f1, dY), d2 = parallel.backward(X, f2, dY);
    CHECK(arma::abs(f1.Y - f2.Y).max() <= 1e-12);
    CHECK(arma::abs(d1 - d2).max() <= 1e-12);
    CHECK(std::abs(f1.aux.total - f2.aux.total) <= 1e-12);
    REQUIRE(pp.size() == pq.size());
    for (std::size_t i = 0; i < pp.size(); ++i) {
      CAPTURE(pp.items()[i].name);
      CHECK(pp.items()[i].name == pq.items()[i].name);
      CHECK(arma::abs(*pp.items()[i].grad - *pq.items()[i].grad).max() <= 1e-12);
    }
    CHECK(self.calls() > 0);  // the exchange went through the communicator
  }
  CHECK(routers >= 7);  // topk, noisy-topk, switch, gshard, hash, loss-free, sigmoid-topk, ...
}
