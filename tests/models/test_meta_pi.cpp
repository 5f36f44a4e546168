// Meta-pi (Hampshire & Waibel 1992): central-difference gradients with trainable and frozen experts,
// the output against a hand-computed blend, and end to end through the apps: per-group experts on the
// vowel fixture, a meta-pi over them with frozen experts, moe-eval on the self-contained result.
#include <doctest/doctest.h>

#include <filesystem>

#include "cli/run_command.hpp"
#include "moe/core/gradient_check.hpp"
#include "moe/core/math.hpp"
#include "moe/h5/hdf5.hpp"
#include "moe/models/meta_pi.hpp"

using namespace moe;
using moe::test::run_command;
using moe::test::TempDir;

namespace {

ModelSpec meta_pi_spec(const std::string& expert, const std::string& output, bool frozen) {
  ModelSpec s;
  s.kind = "meta-pi";
  s.inputs = 3;
  s.outputs = 4;
  s.experts = 3;
  s.expert = expert;
  s.hidden = 5;
  s.activation = "tanh";
  s.output = output;
  s.gate_init_scale = 0.8;
  s.freeze_experts = frozen;
  return s;
}

struct Problem {
  arma::mat X, Y;
};

Problem one_hot_problem(arma::uword n, std::uint64_t seed) {
  Rng rng(seed);
  Problem p{rng.normal_matrix(3, n), arma::mat(4, n, arma::fill::zeros)};
  for (arma::uword j = 0; j < n; ++j) p.Y(rng.below(4), j) = 1.0;
  return p;
}

// Non-identity input maps, so the check covers x_i = scale_i % x + shift_i too.
void set_input_maps(MetaPi& model) {
  ParamList state;
  model.collect_state(state);
  for (arma::uword i = 0; i < 3; ++i) {
    *state.find("expert" + std::to_string(i) + "/input/scale")->value = arma::mat(arma::vec{0.5, 1.5, 0.9 + 0.1 * i});
    *state.find("expert" + std::to_string(i) + "/input/shift")->value = arma::mat(arma::vec{0.2, -0.3, 0.1 * i});
  }
}

}  // namespace

TEST_CASE("meta-pi: gradient through gate and experts (mlp softmax/linear/sigmoid outputs, softmax experts)") {
  const Problem p = one_hot_problem(19, 11);
  const std::pair<const char*, const char*> kinds[] = {
      {"mlp", "softmax"}, {"mlp", "linear"}, {"mlp", "sigmoid"}, {"softmax", "softmax"}};
  // .first / .second, not a structured binding: clang 14 (scripts/tsan.sh) cannot capture one in CAPTURE.
  for (const auto& kind : kinds) {
    const char *expert = kind.first, *output = kind.second;
    CAPTURE(expert);
    CAPTURE(output);
    MetaPi model(meta_pi_spec(expert, output, false));
    Rng rng(5);
    model.init(rng);
    set_input_maps(model);
    ParamList params;
    model.collect(params);
    CHECK(params.find("gate/V") != nullptr);
    CHECK(params.find(std::string(expert) == "mlp" ? "expert2/output/W" : "expert2/W") != nullptr);
    const GradientCheck g = check_gradient(params, [&](bool acc) { return model.loss(p.X, p.Y, acc); });
    CHECK(g.max_relative_error < 1e-6);
    CHECK(arma::norm(g.analytic) > 1e-3);
    CHECK(model.loss(p.X, p.Y, false) == doctest::Approx(arma::mean(model.pointwise_loss(p.X, p.Y))));
  }
}

TEST_CASE("meta-pi: frozen experts register no gradient and keep their values") {
  const Problem p = one_hot_problem(23, 12);
  MetaPi model(meta_pi_spec("mlp", "softmax", true));
  Rng rng(6);
  model.init(rng);
  set_input_maps(model);
  ParamList params, state;
  model.collect(params);
  model.collect_state(state);
  REQUIRE(params.size() == 2);  // gate/V, gate/c
  for (const auto& q : params) CHECK(q.name.rfind("gate/", 0) == 0);
  CHECK(state.size() == 2 + 3 * 4 + 3 * 2);  // gate, 3 MLPs, 3 input maps
  const GradientCheck g = check_gradient(params, [&](bool acc) { return model.loss(p.X, p.Y, acc); });
  CHECK(g.max_relative_error < 1e-6);

  // Expert parameters: the loss depends on them, yet a gradient pass leaves their gradients at zero
  // and a few gradient steps on the registered parameters leave their values as they were.
  const arma::vec before = state.values();
  state.zero_grad();
  for (int step = 0; step < 5; ++step) {
    params.zero_grad();
    model.loss(p.X, p.Y, true);
    params.set_values(params.values() - 0.5 * params.grads());
  }
  const arma::vec after = state.values();
  arma::uword gate_elems = params.element_count();
  CHECK(arma::abs(after.tail(after.n_elem - gate_elems) - before.tail(before.n_elem - gate_elems)).max() == 0.0);
  CHECK(arma::abs(after.head(gate_elems) - before.head(gate_elems)).max() > 0.0);  // the gate did move
  for (const auto& q : state)
    if (q.name.rfind("expert", 0) == 0) CHECK(arma::abs(*q.grad).max() == 0.0);
  Param w = *state.find("expert1/hidden/W");
  const double l0 = model.loss(p.X, p.Y, false);
  (*w.value)(0, 0) += 0.1;
  CHECK(model.loss(p.X, p.Y, false) != doctest::Approx(l0));
}

TEST_CASE("meta-pi: output is the gate-weighted blend of the experts (hand-computed)") {
  // d = 1, two classes, two softmax experts: expert 0 says logits (x, 0), expert 1 says (0, 2x);
  // gate logits (x, 0). At x = 1: f0 = softmax(1, 0), f1 = softmax(0, 2), g = softmax(1, 0).
  ModelSpec s;
  s.kind = "meta-pi";
  s.inputs = 1;
  s.outputs = 2;
  s.experts = 2;
  s.expert = "softmax";
  MetaPi model(s);
  Rng rng(1);
  model.init(rng);
  ParamList state;
  model.collect_state(state);
  *state.find("gate/V")->value = arma::mat(arma::vec{1.0, 0.0});
  *state.find("gate/c")->value = arma::mat(arma::vec{0.0, 0.0});
  *state.find("expert0/W")->value = arma::mat(arma::vec{1.0, 0.0});
  *state.find("expert0/b")->value = arma::mat(arma::vec{0.0, 0.0});
  *state.find("expert1/W")->value = arma::mat(arma::vec{0.0, 2.0});
  *state.find("expert1/b")->value = arma::mat(arma::vec{0.0, 0.0});
  const double e = std::exp(1.0), e2 = std::exp(2.0);
  const double g0 = e / (e + 1), g1 = 1 / (e + 1);
  const double f0a = e / (e + 1), f0b = 1 / (e + 1), f1a = 1 / (1 + e2), f1b = e2 / (1 + e2);
  const arma::mat X(1, 1, arma::fill::ones);
  const Prediction pr = model.predict(X);
  CHECK(pr.gate(0, 0) == doctest::Approx(g0).epsilon(1e-14));
  CHECK(pr.output(0, 0) == doctest::Approx(g0 * f0a + g1 * f1a).epsilon(1e-14));
  CHECK(pr.output(1, 0) == doctest::Approx(g0 * f0b + g1 * f1b).epsilon(1e-14));
  // Squared-error loss on the one-hot target (0, 1): ((y0)^2 + (1 - y1)^2) / 2.
  const double y0 = g0 * f0a + g1 * f1a, y1 = g0 * f0b + g1 * f1b;
  CHECK(model.loss(X, arma::mat(arma::vec{0.0, 1.0}), false) ==
        doctest::Approx(0.5 * (y0 * y0 + (1 - y1) * (1 - y1))).epsilon(1e-14));
  // Input maps: expert 1 sees 2x - 1, i.e. x = 1 -> 1 as before, x = 0 -> -1.
  *state.find("expert1/input/scale")->value = arma::mat(arma::vec{2.0});
  *state.find("expert1/input/shift")->value = arma::mat(arma::vec{-1.0});
  const Prediction p0 = model.predict(arma::mat(arma::vec{0.0}));
  CHECK(p0.output(1, 0) == doctest::Approx(0.5 * 0.5 + 0.5 * std::exp(-2.0) / (1 + std::exp(-2.0))).epsilon(1e-14));
}

TEST_CASE("cli: per-group experts, a meta-pi over them with frozen experts, moe-eval without the expert files") {
  TempDir dir("metapi");
  const std::string fixture = std::string(MOE_FIXTURES) + "/vowels_small.csv";
  const std::string common = " --data " + fixture + " --features F0,F1,F2 --target Vowel --classes aa,ah,ih,iy"
                             " --seed 3 --quiet";
  for (const char* type : {"m", "w", "c"}) {
    const auto r = run_command(std::string(MOE_TRAIN_BIN) + common + " --filter Type=" + type +
                               " --model mlp --hidden 4 --learning-rate 0.3 --epochs 200 -o " + dir / (std::string(type) + ".h5"));
    INFO(r.err);
    REQUIRE(r.status == 0);
  }
  const std::string experts = dir / "m.h5" + "," + dir / "w.h5" + "," + dir / "c.h5";
  const std::string run = dir / "metapi.h5";
  auto r = run_command(std::string(MOE_TRAIN_BIN) + common + " --model meta-pi --expert-models " + experts +
                       " --freeze-experts --group Speaker --train-groups 8 --test-groups 4 --learning-rate 0.5"
                       " --epochs 100 -o " + run);
  INFO(r.err);
  REQUIRE(r.status == 0);
  {
    h5::File f = h5::File::open(run);
    h5::File m = h5::File::open(dir / "m.h5");
    CHECK(f.attr_string("model", "kind") == "meta-pi");
    CHECK(f.attr_int("model", "freeze_experts") == 1);
    CHECK(f.attr_int("model", "experts") == 3);
    CHECK(f.read_matrix("eval/test/gate").n_rows == 3);
    // Frozen: the men's expert is stored unchanged.
    CHECK(arma::approx_equal(f.read_matrix("model/params/expert0/hidden/W"), m.read_matrix("model/params/hidden/W"),
                             "absdiff", 0.0));
  }
  // The result is self-contained: moe-eval works without the expert files.
  for (const char* type : {"m", "w", "c"}) std::filesystem::remove(dir / (std::string(type) + ".h5"));
  const std::string ev = dir / "eval.h5";
  r = run_command(std::string(MOE_EVAL_BIN) + " --model " + run + " --data " + fixture +
                  " --target Vowel --group Speaker --name all -o " + ev);
  INFO(r.err);
  REQUIRE(r.status == 0);
  h5::File f = h5::File::open(run), e = h5::File::open(ev);
  const double n_train = double(f.attr_int("eval/train", "n")), n_test = double(f.attr_int("eval/test", "n"));
  CHECK(e.attr_int("eval/all", "n") == std::int64_t(n_train + n_test));
  CHECK(e.attr_double("eval/all", "loss") * (n_train + n_test) ==
        doctest::Approx(f.attr_double("eval/train", "loss") * n_train + f.attr_double("eval/test", "loss") * n_test));
  CHECK(arma::abs(arma::sum(e.read_matrix("eval/all/gate"), 0) - 1.0).max() < 1e-12);
}

TEST_CASE("cli: meta-pi refuses an expert model on other features, in one line") {
  TempDir dir("metapi-bad");
  const std::string fixture = std::string(MOE_FIXTURES) + "/vowels_small.csv";
  const std::string common = " --data " + fixture + " --target Vowel --seed 3 --quiet";
  auto r = run_command(std::string(MOE_TRAIN_BIN) + common + " --features F1,F2 --model mlp --epochs 5 -o " + dir / "a.h5");
  REQUIRE(r.status == 0);
  r = run_command(std::string(MOE_TRAIN_BIN) + common + " --features F0,F1,F2 --model meta-pi --expert-models " +
                  dir / "a.h5" + " --freeze-experts --epochs 5 -o " + dir / "mp.h5");
  CHECK(r.status == 1);
  CHECK(r.err.find("other features") != std::string::npos);
  CHECK(moe::test::count_lines(r.err) == 1);
  CHECK(!std::filesystem::exists(dir / "mp.h5"));
  r = run_command(std::string(MOE_TRAIN_BIN) + common + " --features F1,F2 --model mlp --freeze-experts --epochs 5 -o " +
                  dir / "b.h5");
  CHECK(r.status == 2);  // a usage error: --freeze-experts does not apply to --model mlp
  CHECK(r.err.find("--freeze-experts") != std::string::npos);
}
