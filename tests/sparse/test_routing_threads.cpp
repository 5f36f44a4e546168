// The same seed gives the same routing whatever the thread count (DESIGN.md principle 7): every router
// on 4096 tokens (enough to start the OpenMP loops) with 1 and with 2 threads, plans compared field by field.
#include <doctest/doctest.h>

#include <memory>

#include "sparse/sparse_test_util.hpp"

#include "moe/core/threads.hpp"
#include "moe/sparse/balanced_router.hpp"
#include "moe/sparse/expert_choice_router.hpp"
#include "moe/sparse/gshard_router.hpp"
#include "moe/sparse/hash_router.hpp"
#include "moe/sparse/loss_free_router.hpp"
#include "moe/sparse/noisy_topk_router.hpp"
#include "moe/sparse/softmax_topk_router.hpp"
#include "moe/sparse/switch_router.hpp"

using namespace moe;

TEST_CASE("sparse routing: the same seed gives the same plan with 1 and 2 threads") {
  const arma::uword d = 8, E = 16, T = 4096;
  std::vector<std::unique_ptr<Router>> routers;
  routers.push_back(std::make_unique<SoftmaxTopKRouter>(d, E, SoftmaxTopKOptions{2, true, 1.25}));
  routers.push_back(std::make_unique<SwitchRouter>(d, E, 1.0));
  routers.push_back(std::make_unique<NoisyTopKRouter>(d, E, NoisyTopKOptions{2, 1.0}));
  routers.push_back(std::make_unique<GShardRouter>(d, E, GShardOptions{0.5, 1.0}));
  routers.push_back(std::make_unique<HashRouter>(d, E));
  routers.push_back(std::make_unique<ExpertChoiceRouter>(d, E, 2.0));
  routers.push_back(std::make_unique<BalancedRouter>(d, E));  // serial auction: deterministic by design
  routers.push_back(std::make_unique<LossFreeRouter>(d, E, LossFreeOptions{2, false, 1e-3, 1.0}));
  const arma::mat X = Rng(1).normal_matrix(d, T);
  const int before = max_threads();
  for (auto& router : routers) {
    CAPTURE(router->kind());
    Rng init(2);
    router->init(init, 1.0);
    RoutingPlan plans[2];
    for (int threads : {1, 2}) {
      set_threads(threads);
      Rng draws(3);
      plans[threads - 1] = router->route(X, {&draws, true, {}}).plan;
      validate(plans[threads - 1]);
    }
    CHECK(moe::test::same_plan(plans[0], plans[1]));
  }
  set_threads(before);
}
