// Conformance of every registered model kind (moe/models/model_registry.hpp): a model added to the registry
// is tested here without touching this file. Each kind is built from one small spec (the sizes of every
// kind set at once; a kind reads only its own), trained a few minibatch Adam epochs, and must
//   - save and load: write_model then read_model gives the same parameters and, bit for bit, the same
//     predictions;
//   - resume: a run resumed from its periodic checkpoint ends with the parameters and history of the
//     uninterrupted run;
//   - reproduce: the same seed gives the same predictions;
//   - bound its size: min_state_values (the entry's state_values) is below its state, within a factor;
//   - where EM can train it: never lower its log-likelihood from one EM iteration to the next.
// Every registered expert kind goes through the EM check inside a mixture; every registered gate trains,
// saves and loads in every model that has gates.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

#include "cli/run_command.hpp"
#include "models/problems.hpp"
#include "moe/experts/expert_registry.hpp"
#include "moe/gates/gate_registry.hpp"
#include "moe/h5/hdf5.hpp"
#include "moe/io/checkpoint.hpp"
#include "moe/io/model_io.hpp"
#include "moe/models/model_registry.hpp"
#include "moe/train/trainer.hpp"

using namespace moe;

namespace {

// Every kind's sizes, small: a kind reads the fields it has.
ModelSpec small_spec(const ModelEntry& entry) {
  ModelSpec s;
  s.kind = entry.name;
  s.experts = 3;
  s.gate_init_scale = 0.1;
  s.hidden = 4;
  s.layer_experts = {2, 2};
  s.expert_hidden = 4;
  s.gate_hidden = 3;
  s.sparse.model_dim = 5;
  s.sparse.ff_dim = 6;
  s.sparse.router_init_scale = 1.0;
  s.embedding = 3;
  s.projection = 3;
  s.task = entry.language_model ? Task::lm : Task::classification;
  if (entry.language_model) s.tokenizer = "none";
  return s;
}

// Data for the spec's task: classification of 3 classes from 3 features, or a language of 6 words read
// through 2 context words (ids as features, the next word one-hot).
test::Problem problem_for(const ModelSpec& s, arma::uword n, std::uint64_t seed) {
  if (s.task != Task::lm) return test::make_problem(3, 3, n, true, seed);
  Rng rng(seed);
  test::Problem p{arma::mat(2, n), arma::mat(6, n, arma::fill::zeros)};
  for (arma::uword j = 0; j < n; ++j) {
    p.X(0, j) = double(rng.below(6));
    p.X(1, j) = double(rng.below(6));
    p.Y(arma::uword(p.X(0, j) + p.X(1, j)) % 6, j) = 1.0;
  }
  return p;
}

std::unique_ptr<Model> built(ModelSpec spec, const test::Problem& p, std::uint64_t seed = 11) {
  spec.inputs = p.X.n_rows;
  spec.outputs = p.Y.n_rows;
  auto model = make_model(spec);
  Rng init(seed);
  model->init(init);
  return model;
}

TrainOptions small_training() {
  TrainOptions o;
  o.epochs = 5;
  o.quiet = true;
  o.optimizer.name = "adam";
  o.optimizer.learning_rate = 0.01;
  o.batch_size = 12;
  return o;
}

arma::vec state_of(Model& model) {
  ParamList params;
  model.collect_state(params);
  return params.values();
}

}  // namespace

TEST_CASE("model conformance: every model kind saves, loads, resumes and reproduces its predictions") {
  test::TempDir dir("modelconformance");
  for (const ModelEntry& entry : ModelRegistry::instance().entries()) {
    CAPTURE(entry.name);
    const ModelSpec spec = small_spec(entry);
    const test::Problem p = problem_for(spec, 48, 5), v = problem_for(spec, 16, 6);
    const bool classification = spec.task == Task::classification;
    const TrainOptions options = small_training();
    const std::string checkpoint = dir / (entry.name + ".ckpt"), saved = dir / (entry.name + ".h5");

    // Trained with a checkpoint every 2 epochs (the saves must not change the run).
    auto a = built(spec, p);
    Rng rng_a(7);
    FileCheckpointer every2(checkpoint, 2, "settings");
    const TrainResult ra = train(*a, p.X, p.Y, v.X, v.Y, classification, options, rng_a, &every2);
    CHECK(every2.saves() == 2);  // after epochs 2 and 4
    CHECK(ra.history.loss.back() < ra.history.loss.front());  // it learnt something

    // Resume from the last checkpoint (after epoch 4): the same end.
    auto b = built(spec, p);
    Rng rng_b(7);
    FileCheckpointer resume(checkpoint, 0, "settings");
    const TrainResult rb = train(*b, p.X, p.Y, v.X, v.Y, classification, options, rng_b, &resume);
    CHECK(rb.resumed_epoch == 5);
    CHECK(arma::approx_equal(state_of(*a), state_of(*b), "absdiff", 0.0));
    CHECK(ra.history.loss == rb.history.loss);

    // A fresh run from the same seed, without checkpoints, gives the same predictions.
    auto c = built(spec, p);
    Rng rng_c(7);
    train(*c, p.X, p.Y, v.X, v.Y, classification, options, rng_c);
    const Prediction pa = a->predict(v.X);
    CHECK(arma::approx_equal(pa.output, c->predict(v.X).output, "absdiff", 0.0));
    CHECK(arma::approx_equal(pa.output, b->predict(v.X).output, "absdiff", 0.0));

    // The size bound read_model checks a file against: below the real state, within a small factor.
    const double real = double(state_of(*a).n_elem), bound = min_state_values(a->spec());
    CHECK(bound >= 1);
    CHECK(bound <= real);
    CHECK(real <= 4 * bound + 16);

    // Save and load.
    Standardizer standardizer;
    standardizer.fit(p.X);
    std::vector<std::string> features, targets;
    for (arma::uword i = 0; i < p.X.n_rows; ++i) features.push_back("x" + std::to_string(i));
    for (arma::uword i = 0; i < p.Y.n_rows; ++i) targets.push_back("y" + std::to_string(i));
    {
      h5::File file = h5::File::create(saved);
      write_model(file, *a, standardizer, features, targets);
      file.commit();
    }
    const SavedModel loaded = read_model(h5::File::open(saved));
    CHECK(loaded.model->spec().kind == entry.name);
    CHECK(loaded.feature_names == features);
    CHECK(arma::approx_equal(state_of(*a), state_of(*loaded.model), "absdiff", 0.0));
    const Prediction pl = loaded.model->predict(v.X);
    CHECK(arma::approx_equal(pa.output, pl.output, "absdiff", 0.0));
    CHECK(arma::approx_equal(pa.gate, pl.gate, "absdiff", 0.0));
  }
}

TEST_CASE("model conformance: EM never lowers the log-likelihood, for every model EM can train and every expert, "
          "and every expert saves and loads") {
  test::TempDir dir("emconformance");
  std::vector<std::string> em_models;
  for (const ModelEntry& entry : ModelRegistry::instance().entries()) {
    ModelSpec base = small_spec(entry);
    if (entry.language_model || !built(base, problem_for(base, 8, 1))->em()) continue;  // gradient-only kinds
    for (const ExpertEntry& expert : ExpertRegistry::instance().entries()) {
      CAPTURE(entry.name);
      CAPTURE(expert.name);
      ModelSpec spec = base;
      spec.expert = expert.name;
      spec.task = expert.classification_only ? Task::classification : Task::regression;
      const bool classification = spec.task == Task::classification;
      const test::Problem p = test::make_problem(3, classification ? 3 : 2, 80, classification, 9);
      auto model = built(spec, p);
      TrainOptions options;
      options.method = "em";
      options.epochs = 12;
      options.quiet = true;
      Rng rng(3);
      const TrainResult r = train(*model, p.X, p.Y, arma::mat(), arma::mat(), classification, options, rng);
      const std::vector<double>& loss = r.history.loss;  // mean negative log-likelihood per epoch
      REQUIRE(loss.size() >= 2);
      for (std::size_t e = 1; e < loss.size(); ++e) {
        CAPTURE(e);
        CHECK(loss[e] <= loss[e - 1] + 1e-10 * std::max(1.0, std::abs(loss[e - 1])));
      }
      CHECK(loss.back() < loss.front());  // EM moved
      // The trained model with this expert kind saves and loads.
      const std::string saved = dir / (entry.name + "-" + expert.name + ".h5");
      {
        Standardizer standardizer;
        standardizer.fit(p.X);
        std::vector<std::string> targets;
        for (arma::uword i = 0; i < p.Y.n_rows; ++i) targets.push_back("y" + std::to_string(i));
        h5::File file = h5::File::create(saved);
        write_model(file, *model, standardizer, {"x0", "x1", "x2"}, targets);
        file.commit();
      }
      const SavedModel loaded = read_model(h5::File::open(saved));
      CHECK(loaded.model->spec().expert == expert.name);
      CHECK(arma::approx_equal(model->predict(p.X).output, loaded.model->predict(p.X).output, "absdiff", 0.0));
    }
    em_models.push_back(entry.name);
  }
  CHECK(em_models.size() >= 2);  // the mixture and the hme at least
}

TEST_CASE("model conformance: every registered gate trains, saves and loads in every model that has gates") {
  test::TempDir dir("gateconformance");
  int pairs = 0;
  for (const ModelEntry& entry : ModelRegistry::instance().entries()) {
    if (std::find(entry.flags.begin(), entry.flags.end(), "gate") == entry.flags.end()) continue;
    for (const GateEntry& gate : GateRegistry::instance().entries()) {
      CAPTURE(entry.name);
      CAPTURE(gate.name);
      ModelSpec spec = small_spec(entry);
      spec.gate = gate.name;
      const test::Problem p = problem_for(spec, 48, 5);
      auto model = built(spec, p);
      CHECK(model->spec().gate == gate.name);
      TrainOptions options = small_training();
      options.epochs = 8;
      Rng rng(7);
      const TrainResult r = train(*model, p.X, p.Y, arma::mat(), arma::mat(), true, options, rng);
      CHECK(r.history.loss.back() < r.history.loss.front());
      const arma::mat gates = model->predict(p.X).gate;  // K x N (an hme: its leaves' path probabilities)
      REQUIRE(gates.n_rows >= 2);
      CHECK(arma::abs(arma::sum(gates, 0) - 1.0).max() < 1e-9);
      const std::string saved = dir / (entry.name + "-" + gate.name + ".h5");
      Standardizer standardizer;
      standardizer.fit(p.X);
      {
        h5::File file = h5::File::create(saved);
        write_model(file, *model, standardizer, {"x0", "x1", "x2"}, {"y0", "y1", "y2"});
        file.commit();
      }
      const SavedModel loaded = read_model(h5::File::open(saved));
      CHECK(loaded.model->spec().gate == gate.name);
      CHECK(arma::approx_equal(model->predict(p.X).output, loaded.model->predict(p.X).output, "absdiff", 0.0));
      ++pairs;
    }
  }
  CHECK(pairs >= 6);  // mixture, hme and meta-pi, each with both gates
}
