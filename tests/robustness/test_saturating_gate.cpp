// Numeric robustness, case (f): saturating gates. Inputs at 1e6 (as with --no-standardize) and
// gate weights drawn at scale 1e6 give gate logits around 1e12, so the gate probabilities are exactly 0
// and 1. Log-likelihoods, posteriors, gradients and training stay finite (log-sum-exp everywhere) for the
// linear softmax gate, the Gaussian gate, HME, meta-pi, the deep MoE's gates and the sparse routers; and
// through moe-train and moe-eval, every number of their results files. Saturation alone is not a
// degeneracy that warns: an expert the saturated gate starves is (test_dead_expert.cpp).
#include <doctest/doctest.h>

#include "cli/run_command.hpp"
#include "models/problems.hpp"
#include "moe/core/warning.hpp"
#include "moe/h5/hdf5.hpp"
#include "moe/models/model.hpp"
#include "moe/sparse/router_registry.hpp"
#include "moe/train/trainer.hpp"

using namespace moe;

namespace {

struct Case {
  std::string name;
  ModelSpec spec;
  std::vector<std::string> methods;  // trainers to run
};

std::vector<Case> cases(bool classification) {
  ModelSpec base;
  base.task = classification ? Task::classification : Task::regression;
  base.inputs = 2;
  base.outputs = classification ? 3 : 1;
  base.experts = 3;
  base.gate_init_scale = 1e6;
  std::vector<Case> out;
  ModelSpec s = base;
  s.kind = "mixture";
  s.expert = classification ? "softmax" : "linear-gaussian";
  out.push_back({"mixture, linear gate", s, {"gradient", "em"}});
  s.gate = "gaussian";
  s.gate_init_scale = 1e6;  // the Gaussian gate's means at 1e6 scale; see the variances below
  out.push_back({"mixture, gaussian gate", s, {"gradient", "em"}});
  s = base;
  s.kind = "hme";
  s.expert = classification ? "softmax" : "linear-gaussian";
  s.depth = 2;
  s.branching = 2;
  out.push_back({"hme", s, {"gradient", "em"}});
  if (!classification) {
    out.push_back({"hme, online-em", s, {"online-em"}});
  } else {
    s = base;
    s.kind = "meta-pi";
    s.expert = "softmax";
    out.push_back({"meta-pi", s, {"gradient"}});
    s = base;
    s.kind = "deep";
    s.layer_experts = {3, 2};
    s.expert_hidden = 4;
    s.gate_hidden = 4;
    out.push_back({"deep moe", s, {"gradient"}});
  }
  for (const std::string& router : RouterRegistry::instance().names()) {  // every registered router
    if (router == "hash") continue;  // no router weights to saturate
    s = base;
    s.kind = "sparse";
    s.experts = 4;
    s.sparse.router = router;
    s.sparse.model_dim = 4;
    s.sparse.ff_dim = 5;
    s.sparse.router_init_scale = 1e6;
    if (router == "noisy-topk") s.sparse.w_load = s.sparse.w_importance = 0.1;
    if (router == "switch") s.sparse.switch_alpha = 0.01;
    if (router == "topk") s.sparse.z_loss = 1e-3;
    out.push_back({"sparse " + router, s, {"gradient"}});
  }
  return out;
}

void check_finite_gradients(const ParamList& params) {
  for (const Param& p : params) {
    CAPTURE(p.name);
    CHECK(p.value->is_finite());
    CHECK(p.grad->is_finite());
  }
}

}  // namespace

TEST_CASE("robust: saturated gates (probabilities exactly 0 and 1) give finite losses, posteriors, gradients and training") {
  for (const bool classification : {true, false}) {
    test::Problem p = test::make_problem(2, classification ? 3 : 1, 60, classification, 31);
    p.X *= 1e6;  // raw inputs at 1e6, as with --no-standardize
    for (const Case& c : cases(classification)) {
      for (const std::string& method : c.methods) {
        CAPTURE(c.name);
        CAPTURE(classification);
        CAPTURE(method);
        auto model = make_model(c.spec);
        Rng rng(32);
        model->init(rng);
        ParamList params;
        model->collect(params);
        if (const Param* lv = params.find("gate/log_var")) lv->value->fill(-10.0);  // narrow components
        const Prediction before = model->predict(p.X);
        CHECK(before.output.is_finite());
        if (!before.gate.empty()) {
          CHECK(before.gate.is_finite());
          // The gate is saturated: some probabilities are exactly 0 and some exactly 1.
          if (c.spec.kind != "sparse") {
            CHECK(arma::any(arma::vectorise(before.gate) == 0.0));
            CHECK(arma::any(arma::vectorise(before.gate) == 1.0));
          }
        }
        CHECK(model->pointwise_loss(p.X, p.Y).is_finite());
        CHECK(model->posterior(p.X, p.Y).is_finite());
        for (const arma::mat& g : model->layer_gates(p.X)) CHECK(g.is_finite());
        params.zero_grad();
        CHECK(std::isfinite(model->loss(p.X, p.Y, true)));
        check_finite_gradients(params);

        TrainOptions o;
        o.method = method;
        o.epochs = 8;
        o.quiet = true;
        o.optimizer.name = "adam";
        o.optimizer.learning_rate = 0.01;
        WarningCapture warnings;
        const TrainResult r = train(*model, p.X, p.Y, arma::mat(), arma::mat(), classification, o, rng);
        CHECK(arma::rowvec(r.history.loss).is_finite());
        CHECK(arma::rowvec(r.history.train_metric).is_finite());
        CHECK(r.history.usage.is_finite());
        const Prediction after = model->predict(p.X);
        CHECK(after.output.is_finite());
        CHECK(after.gate.is_finite());
        CHECK(model->posterior(p.X, p.Y).is_finite());
        params.zero_grad();
        CHECK(std::isfinite(model->loss(p.X, p.Y, true)));
        check_finite_gradients(params);
      }
    }
  }
}

namespace {

// Every number of every dataset of a results file, recursively: all finite (NaN and Inf would show here).
void check_all_finite(const h5::File& f, const std::string& group, int& datasets) {
  for (const std::string& name : f.children(group)) {
    const std::string path = group.empty() ? name : group + "/" + name;
    if (!f.is_dataset(path)) {
      check_all_finite(f, path, datasets);
      continue;
    }
    if (f.is_string_dataset(path)) continue;
    CAPTURE(path);
    CHECK(f.read_matrix(path).is_finite());
    ++datasets;
  }
}

}  // namespace

TEST_CASE("robust: moe-train with saturated gates writes a results file without NaN or Inf, and moe-eval too") {
  test::TempDir dir("saturated");
  const std::string data = std::string(MOE_FIXTURES) + "/vowels_small.csv";
  // Raw formant inputs (hundreds to thousands of Hz) and gate weights at scale 1e6: logits near 1e9.
  for (const std::string model : {"mixture --experts 4 --trainer em", "mixture --experts 4 --trainer gradient",
                                  "hme --depth 2 --branching 2"}) {
    CAPTURE(model);
    const std::string out = dir / "run.h5", eval = dir / "eval.h5";
    auto r = test::run_command(std::string(MOE_TRAIN_BIN) + " --data " + data + " --features F1,F2 --target Vowel "
                               "--no-standardize --gate-init-scale 1e6 --epochs 5 --divergence-factor 0 --quiet --model " +
                               model + " -o " + out);
    INFO(r.err);
    REQUIRE(r.status == 0);
    int datasets = 0;
    check_all_finite(h5::File::open(out), "", datasets);
    CHECK(datasets > 10);
    r = test::run_command(std::string(MOE_EVAL_BIN) + " --model " + out + " --data " + data + " --target Vowel -o " + eval);
    INFO(r.err);
    REQUIRE(r.status == 0);
    datasets = 0;
    check_all_finite(h5::File::open(eval), "", datasets);
    CHECK(datasets > 3);
  }
}
