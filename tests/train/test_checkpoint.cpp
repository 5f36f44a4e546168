// Checkpoint and resume inside the library: for every trainer (gradient full-batch and minibatch,
// EM, on-line EM) and every model with training state beyond its parameters (optimiser moments, the
// sparse layer's noise step and routing log, deep MoE's balancing sums, early stopping's best weights),
// a run resumed from a checkpoint ends with exactly the parameters, history and routing log of the
// uninterrupted run: from a periodic checkpoint at an epoch boundary, and from a stop requested in
// the middle of a minibatch epoch.
#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>

#include "cli/run_command.hpp"
#include "models/problems.hpp"
#include "moe/core/stop_request.hpp"
#include "moe/h5/hdf5.hpp"
#include "moe/io/checkpoint.hpp"
#include "moe/models/backend_training.hpp"
#include "moe/sparse/router_registry.hpp"
#include "moe/sparse/routing_log.hpp"
#include "moe/train/trainer.hpp"

using namespace moe;

namespace {

struct Case {
  std::string name;
  ModelSpec spec;
  TrainOptions options;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  TrainOptions base;
  base.epochs = 7;
  base.quiet = true;
  {
    Case c{"mixture, minibatch adam, early-stopping bookkeeping", {}, base};
    c.spec.expert = "linear-gaussian";
    c.spec.task = Task::regression;
    c.spec.gate_init_scale = 0.1;
    c.options.optimizer.name = "adam";
    c.options.optimizer.learning_rate = 0.02;
    c.options.batch_size = 16;
    c.options.patience = 100;  // keeps best weights and counters without stopping
    out.push_back(c);
  }
  {
    Case c{"mixture, EM", {}, base};
    c.spec.expert = "softmax";
    c.spec.gate_init_scale = 0.1;
    c.options.method = "em";
    out.push_back(c);
  }
  {
    Case c{"hme, on-line EM", {}, base};
    c.spec.kind = "hme";
    c.spec.expert = "linear-gaussian";
    c.spec.task = Task::regression;
    c.spec.gate_init_scale = 0.1;
    c.options.method = "online-em";
    out.push_back(c);
  }
  {
    Case c{"deep moe, balancing, minibatch momentum", {}, base};
    c.spec.kind = "deep";
    c.spec.layer_experts = {3, 2};
    c.spec.expert_hidden = 4;
    c.spec.gate_hidden = 3;
    c.spec.balance_epochs = 4;
    c.spec.balance_margin = 0.5;
    c.options.batch_size = 10;
    c.options.optimizer.learning_rate = 0.05;
    out.push_back(c);
  }
  std::vector<std::string> stateful{"noisy-topk"};  // its noise stream; and every router with per-step state
  for (const RouterEntry& e : RouterRegistry::instance().entries())
    if (e.traits.keeps_step_state) stateful.push_back(e.name);
  for (const std::string& router : stateful) {
    Case c{"sparse, " + router + ", minibatch adam", {}, base};
    c.spec.kind = "sparse";
    c.spec.experts = 4;
    c.spec.sparse.router = router;
    c.spec.sparse.model_dim = 5;
    c.spec.sparse.ff_dim = 6;
    c.spec.sparse.router_init_scale = 1.0;
    c.spec.sparse.bias_rate = 0.01;
    c.options.optimizer.name = "adam";
    c.options.optimizer.learning_rate = 0.01;
    c.options.batch_size = 12;
    out.push_back(c);
  }
  {  // the backend's momentum state ("velocity"), --l2, and early stopping's best weights through from_host
    Case c{"sparse, topk, minibatch momentum, l2, patience", {}, base};
    c.spec.kind = "sparse";
    c.spec.experts = 4;
    c.spec.sparse.model_dim = 5;
    c.spec.sparse.ff_dim = 6;
    c.spec.sparse.capacity_factor = 1.0;
    c.options.optimizer.name = "momentum";
    c.options.optimizer.learning_rate = 0.02;
    c.options.batch_size = 12;
    c.options.l2 = 0.01;
    c.options.patience = 100;
    out.push_back(c);
  }
  {
    Case c{"mlp, full batch momentum", {}, base};
    c.spec.kind = "mlp";
    out.push_back(c);
  }
  return out;
}

struct Run {
  std::unique_ptr<Model> model;
  TrainResult result;
};

// The model, initialised exactly as moe-train does it from one seed, then trained.
std::unique_ptr<Model> fresh_model(ModelSpec spec, const test::Problem& p) {
  spec.inputs = p.X.n_rows;
  spec.outputs = p.Y.n_rows;
  auto model = make_model(spec);
  Rng init(11);
  model->init(init);
  return model;
}

// A model that asks for a stop after its n-th optimiser step (as SIGINT arriving then would), whether the
// trainer steps it (end_step) or it steps itself on a compute backend (step, step_on).
class StopAfterSteps final : public Model, public BackendTraining {
 public:
  StopAfterSteps(Model& inner, std::size_t n) : inner_(inner), n_(n) {}
  BackendTraining* backend_training() override { return inner_.backend_training() ? this : nullptr; }
  void start(const BackendOptimizer& o) override { inner_.backend_training()->start(o); }
  void step(const arma::mat& X, const arma::mat& Y) override {
    inner_.backend_training()->step(X, Y);
    count();
  }
  void set_data(const arma::mat& X, const arma::mat& Y) override { inner_.backend_training()->set_data(X, Y); }
  void step_on(const arma::uvec& columns) override {
    inner_.backend_training()->step_on(columns);
    count();
  }
  void add_loss_sums(double& sum) override { inner_.backend_training()->add_loss_sums(sum); }
  void to_host() override { inner_.backend_training()->to_host(); }
  void from_host() override { inner_.backend_training()->from_host(); }
  void visit_optimizer_state(StateVisitor& v, const std::string& prefix) override {
    inner_.backend_training()->visit_optimizer_state(v, prefix);
  }
  const ModelSpec& spec() const override { return inner_.spec(); }
  void init(Rng& rng) override { inner_.init(rng); }
  void collect(ParamList& p) override { inner_.collect(p); }
  void collect_state(ParamList& p) override { inner_.collect_state(p); }
  double loss(const arma::mat& X, const arma::mat& Y, bool g) override { return inner_.loss(X, Y, g); }
  arma::rowvec pointwise_loss(const arma::mat& X, const arma::mat& Y) const override {
    return inner_.pointwise_loss(X, Y);
  }
  Prediction predict(const arma::mat& X) const override { return inner_.predict(X); }
  arma::mat posterior(const arma::mat& X, const arma::mat& Y) const override { return inner_.posterior(X, Y); }
  arma::uword experts() const override { return inner_.experts(); }
  arma::mat gate(const arma::mat& X) const override { return inner_.gate(X); }
  void end_epoch(std::size_t e) override { inner_.end_epoch(e); }
  void end_step() override {
    inner_.end_step();
    count();
  }
  const RoutingLog* routing_log() const override { return inner_.routing_log(); }
  void visit_state(StateVisitor& v, const std::string& prefix) override { inner_.visit_state(v, prefix); }

 private:
  void count() {
    if (++steps_ == n_) request_stop(SIGINT);
  }
  Model& inner_;
  std::size_t n_, steps_ = 0;
};

void check_same(Model& a, const TrainResult& ra, Model& b, const TrainResult& rb) {
  ParamList pa, pb;
  a.collect_state(pa);
  b.collect_state(pb);
  CHECK(arma::approx_equal(pa.values(), pb.values(), "absdiff", 0.0));
  const History &ha = ra.history, &hb = rb.history;
  CHECK(ha.epoch == hb.epoch);
  CHECK(ha.loss == hb.loss);
  CHECK(ha.train_metric == hb.train_metric);
  CHECK(ha.valid_loss == hb.valid_loss);
  CHECK(arma::approx_equal(ha.usage, hb.usage, "absdiff", 0.0));
  CHECK(ra.best_epoch == rb.best_epoch);
  CHECK(ra.criterion_epoch == rb.criterion_epoch);
  if (const RoutingLog* la = a.routing_log()) {
    const RoutingLog* lb = b.routing_log();
    REQUIRE(lb != nullptr);
    CHECK(la->steps() == lb->steps());
    CHECK(la->cv_load == lb->cv_load);
    CHECK(la->aux_total == lb->aux_total);
  }
}

}  // namespace

TEST_CASE("checkpoint: a run resumed from a periodic checkpoint or a mid-epoch stop equals the uninterrupted run") {
  test::TempDir dir("checkpoint");
  for (const Case& c : cases()) {
    CAPTURE(c.name);
    const bool classification = c.spec.task == Task::classification;
    const test::Problem p = test::make_problem(3, classification ? 3 : 1, 60, classification, 5);
    const test::Problem v = test::make_problem(3, classification ? 3 : 1, 20, classification, 6);
    const std::string path = dir / "run.ckpt";
    std::filesystem::remove(path);

    // Uninterrupted, saving every 2 epochs (the saves must not change the run).
    auto a = fresh_model(c.spec, p);
    Rng rng_a(7);
    FileCheckpointer every2(path, 2, "settings");
    const TrainResult ra = train(*a, p.X, p.Y, v.X, v.Y, classification, c.options, rng_a, &every2);
    CHECK(every2.saves() == 3);  // after epochs 2, 4, 6 (none after the last)
    // Its last checkpoint (after epoch 6) resumes into the same final state.
    auto b = fresh_model(c.spec, p);
    Rng rng_b(7);
    FileCheckpointer resume(path, 0, "settings");
    const TrainResult rb = train(*b, p.X, p.Y, v.X, v.Y, classification, c.options, rng_b, &resume);
    check_same(*a, ra, *b, rb);
    CHECK(h5::File::open(path).read_uvec("checkpoint/loop/epoch")(0) == 7);

    // Stopped in the middle of epoch 3 (minibatch) or at the start of an epoch (one step per epoch).
    if (c.options.method == "gradient") {
      std::filesystem::remove(path);
      auto inner = fresh_model(c.spec, p);
      const std::size_t steps_per_epoch = c.options.batch_size ? (60 + c.options.batch_size - 1) / c.options.batch_size : 1;
      StopAfterSteps stopping(*inner, 2 * steps_per_epoch + (steps_per_epoch > 1 ? 2 : 0));
      Rng rng_c(7);
      FileCheckpointer on_stop(path, 0, "settings");
      std::string message;
      try {
        train(stopping, p.X, p.Y, v.X, v.Y, classification, c.options, rng_c, &on_stop);
      } catch (const Stopped& e) {
        message = e.what();
        CHECK(e.exit_status() == 130);
      }
      clear_stop_request();
      CHECK(message.find("stopped by SIGINT in epoch 3") != std::string::npos);
      CHECK(on_stop.saves() == 1);
      auto d = fresh_model(c.spec, p);
      Rng rng_d(7);
      const TrainResult rd = train(*d, p.X, p.Y, v.X, v.Y, classification, c.options, rng_d, &on_stop);
      check_same(*a, ra, *d, rd);
    }
  }
}

TEST_CASE("checkpoint: a checkpoint of other settings or another model is refused with one line") {
  test::TempDir dir("checkpoint-refuse");
  const std::string path = dir / "run.ckpt";
  const test::Problem p = test::make_problem(3, 3, 40, true, 5);
  ModelSpec spec;
  spec.gate_init_scale = 0.1;
  TrainOptions options;
  options.epochs = 3;
  options.quiet = true;
  auto a = fresh_model(spec, p);
  Rng rng(1);
  FileCheckpointer save(path, 1, "experts = 4\n");
  train(*a, p.X, p.Y, arma::mat(), arma::mat(), true, options, rng, &save);
  REQUIRE(std::filesystem::exists(path));

  FileCheckpointer other_settings(path, 0, "experts = 5\n");
  auto b = fresh_model(spec, p);
  CHECK_THROWS_WITH_AS(train(*b, p.X, p.Y, arma::mat(), arma::mat(), true, options, rng, &other_settings),
                       doctest::Contains("belongs to a run with other settings ('experts = 4' there, 'experts = 5' here)"),
                       Error);
  ModelSpec bigger = spec;
  bigger.experts = 5;
  auto c = fresh_model(bigger, p);
  FileCheckpointer same_text(path, 0, "experts = 4\n");
  CHECK_THROWS_WITH_AS(train(*c, p.X, p.Y, arma::mat(), arma::mat(), true, options, rng, &same_text),
                       doctest::Contains("(a checkpoint of another model?)"), Error);
}
