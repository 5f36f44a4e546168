// The network around a sparse MoE layer (--model sparse): central-difference gradient of the whole
// model (embedding, layer, output, auxiliary losses), the per-step routing log, the loss-free bias
// moving with training steps, and sparse upcycling (every expert a copy of the dense FFN gives the
// dense network's predictions exactly).
#include <doctest/doctest.h>

#include "models/problems.hpp"
#include "moe/core/gradient_check.hpp"
#include "moe/models/sparse_net.hpp"
#include "moe/backend/backend_registry.hpp"
#include "moe/train/trainer.hpp"

using namespace moe;

namespace {
ModelSpec sparse_spec(const std::string& router, Task task = Task::classification) {
  ModelSpec s;
  s.kind = "sparse";
  s.task = task;
  s.inputs = 3;
  s.outputs = 4;
  s.experts = 4;
  s.sparse.router = router;
  s.sparse.model_dim = 5;
  s.sparse.ff_dim = 6;
  s.sparse.router_init_scale = 1.0;
  return s;
}
}  // namespace

TEST_CASE("sparse net: gradient of the task loss plus auxiliary losses (noisy top-k, soft, regression)") {
  std::vector<ModelSpec> specs;
  ModelSpec s = sparse_spec("noisy-topk");
  s.sparse.w_importance = 0.5;
  s.sparse.w_load = 0.5;
  specs.push_back(s);
  specs.push_back(sparse_spec("soft"));
  s = sparse_spec("switch", Task::regression);
  s.outputs = 2;
  s.sparse.switch_alpha = 0.1;
  s.sparse.z_loss = 0.01;
  s.sparse.shared_experts = 1;
  specs.push_back(s);
  for (const ModelSpec& spec : specs) {
    CAPTURE(spec.sparse.router);
    SparseNet net(spec, make_backend("cpu", "double"));
    Rng rng(3);
    net.init(rng);
    const test::Problem p = test::make_problem(3, spec.outputs, 20, spec.task == Task::classification, 4);
    ParamList params;
    net.collect(params);
    const GradientCheck check = check_gradient(params, [&](bool g) { return net.loss(p.X, p.Y, g); }, 1e-5, 1e-4);
    CHECK(check.max_relative_error < 1e-6);
    CHECK(arma::abs(check.analytic).max() > 1e-2);
  }
}

TEST_CASE("sparse net: training logs every step's routing and the loss-free bias moves") {
  ModelSpec spec = sparse_spec("loss-free");
  spec.sparse.bias_rate = 0.01;
  SparseNet net(spec, make_backend("cpu", "double"));
  Rng rng(5);
  net.init(rng);
  const test::Problem p = test::make_problem(3, 4, 64, true, 6);
  TrainOptions o;
  o.epochs = 3;
  o.batch_size = 16;
  o.quiet = true;
  o.optimizer.name = "adam";
  o.optimizer.learning_rate = 0.01;
  Rng train_rng(7);
  train(net, p.X, p.Y, arma::mat(), arma::mat(), true, o, train_rng);
  const RoutingLog* log = net.routing_log();
  REQUIRE(log != nullptr);
  CHECK(log->steps() == 12);  // 3 epochs x 4 batches
  for (std::size_t s = 0; s < log->steps(); ++s) CHECK(arma::accu(log->load[s]) == doctest::Approx(32.0));  // 16 x k
  // Saved as state, so a reloaded model routes the same way.
  ParamList state;
  net.collect_state(state);
  const Param* entry = state.find("moe/router/bias");
  REQUIRE(entry != nullptr);
  const arma::mat& bias = *entry->value;
  // Each step moves each bias by +-u or 0, so after 12 steps every entry is a multiple of u within 12 u.
  CHECK(arma::abs(bias).max() > 0.0);
  CHECK(arma::abs(bias).max() <= 0.12 + 1e-12);
  const arma::mat steps = bias / 0.01;
  CHECK(arma::approx_equal(steps, arma::round(steps), "absdiff", 1e-9));
}

TEST_CASE("sparse upcycling: experts that copy the dense FFN reproduce the dense network") {
  ModelSpec dense_spec = sparse_spec("topk");
  dense_spec.experts = 1;
  dense_spec.sparse.top_k = 1;
  SparseNet dense(dense_spec, make_backend("cpu", "double"));
  Rng rng(8);
  dense.init(rng);
  ModelSpec moe_spec = sparse_spec("topk");
  moe_spec.experts = 6;
  moe_spec.sparse.top_k = 2;  // renormalised: the weights of a token sum to 1
  SparseNet upcycled(moe_spec, make_backend("cpu", "double"));
  upcycled.init(rng);
  upcycled.upcycle_from(dense);
  const test::Problem p = test::make_problem(3, 4, 30, true, 9);
  const arma::mat a = dense.predict(p.X).output, b = upcycled.predict(p.X).output;
  CHECK(arma::abs(a - b).max() < 1e-12);
  // A model of other sizes is refused.
  ModelSpec other = moe_spec;
  other.sparse.ff_dim = 7;
  SparseNet wrong(other, make_backend("cpu", "double"));
  CHECK_THROWS_WITH_AS(wrong.upcycle_from(dense),
                       "upcycling: the dense model's inputs, outputs, --d-model, --d-ff or --ffn-activation differ "
                       "from this run's",
                       Error);
}
