// moe::read_model on model files whose /model attributes are wrong in ways the HDF5 fuzz target found
// (tests/fuzz/regressions/hdf5), and moe::min_state_values, the lower bound read_model checks the
// attributes against before it builds the model (so absurd sizes are refused instead of allocated). The
// bound must never exceed the real size of a model's state (else read_model would refuse a good file) and
// stay within a small factor of it (else it would let absurd sizes through).
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "moe/core/error.hpp"
#include "moe/core/rng.hpp"
#include "moe/io/model_io.hpp"
#include "moe/models/model.hpp"

namespace {

// A mixture of 3 softmax experts on 2 inputs and 3 classes, written as moe-train writes it, with the
// /model attribute `key` then set to `value`. Returns the file's path.
std::string model_file(const std::string& key, const std::string& value) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("moekit-test-model-io-" + std::to_string(::getpid()) + ".h5")).string();
  moe::ModelSpec s;
  s.inputs = 2;
  s.outputs = 3;
  s.experts = 3;
  auto model = moe::make_model(s);
  moe::Rng rng(1);
  model->init(rng);
  moe::Standardizer st;
  st.mean = arma::zeros(2);
  st.scale = arma::ones(2);
  moe::h5::File f = moe::h5::File::create(path);
  moe::write_model(f, *model, st, {"F1", "F2"}, {"a", "b", "c"});
  if (!key.empty()) f.set_attr("model", key, value);
  f.commit();
  return path;
}

std::string read_model_error(const std::string& path) {
  try {
    moe::read_model(moe::h5::File::open(path));
  } catch (const moe::Error& e) {
    return e.what();
  }
  return "";
}

double state_values(moe::Model& model) {
  moe::ParamList params;
  model.collect_state(params);
  double n = 0;
  for (const auto& p : params) n += double(p.value->n_elem);
  return n;
}

}  // namespace

TEST_CASE("model io: min_state_values bounds the state of every kind of model from below, within a factor of 4") {
  std::vector<moe::ModelSpec> specs;
  for (arma::uword d : {1, 3, 7})
    for (arma::uword m : {1, 2, 5})
      for (arma::uword K : {1, 3}) {
        moe::ModelSpec s;
        s.inputs = d;
        s.outputs = m;
        s.experts = K;
        s.hidden = 4;
        for (const char* expert : {"softmax", "linear-gaussian", "linear-gaussian-full", "gaussian"})
          for (const char* gate : {"linear", "gaussian"}) {
            s.kind = "mixture";
            s.expert = expert;
            s.gate = gate;
            s.task = s.expert == "softmax" ? moe::Task::classification : moe::Task::regression;
            specs.push_back(s);
            s.kind = "hme";
            s.gate = "linear";
            s.depth = 1 + K % 2;
            s.branching = 2 + m % 2;
            specs.push_back(s);
          }
        s.gate = "linear";
        s.task = moe::Task::classification;
        s.kind = "mlp";
        s.output = "softmax";
        specs.push_back(s);
        s.kind = "meta-pi";
        for (const char* expert : {"mlp", "softmax"}) {
          s.expert = expert;
          specs.push_back(s);
        }
        s.kind = "deep";
        s.layer_experts = {K, 2};
        s.expert_hidden = 3;
        s.gate_hidden = 2;
        specs.push_back(s);
        s.kind = "sparse";
        s.sparse.model_dim = 4;
        s.sparse.ff_dim = 6;
        s.sparse.top_k = 1;
        for (const char* router : {"topk", "soft", "hash", "loss-free"}) {
          s.sparse.router = router;
          specs.push_back(s);
        }
        s.sparse.router = "topk";
        s.kind = "lm";
        s.task = moe::Task::lm;
        s.outputs = m + 1;
        s.embedding = 3;
        s.projection = 2;
        s.activation = "tanh";
        s.tokenizer = "word";
        s.context_vocabulary = K == 1 ? 0 : 9;
        for (const char* head : {"softmax", "mos", "moc"}) {
          s.head = head;
          specs.push_back(s);
        }
        s.head = "softmax";
        s.moe_layer = true;
        s.sparse.model_dim = s.hidden;
        specs.push_back(s);
      }
  for (const moe::ModelSpec& s : specs) {
    CAPTURE(s.kind);
    CAPTURE(s.expert);
    CAPTURE(s.gate);
    CAPTURE(s.head);
    CAPTURE(s.sparse.router);
    CAPTURE(s.inputs);
    CAPTURE(s.outputs);
    CAPTURE(s.experts);
    auto model = moe::make_model(s);
    const double real = state_values(*model), bound = moe::min_state_values(s);
    CAPTURE(real);
    CAPTURE(bound);
    CHECK(bound >= 1);
    CHECK(bound <= real);
    CHECK(real <= 4 * bound + 16);
  }
}

TEST_CASE("model io: /model attributes claiming absurd sizes or holding a non-number are refused before anything is built") {
  struct Case {
    std::string key, value, needle;
  };
  const std::vector<Case> cases = {
      {"inputs", "18446744073709551615", "model of at least "},
      {"outputs", "-1", "model attribute 'outputs' is not a count: '-1'"},
      {"experts", "1000000000", "parameter values, but /model/params holds "},
      {"gate_init_scale", "wide", "model attribute 'gate_init_scale' is not a number: 'wide'"},
      {"gate_init_scale", "", "model attribute 'gate_init_scale' is not a number: ''"},
      {"gate_init_scale", "inf", "--gate-init-scale must be a finite number >= 0"},
      {"gate_init_scale", "nan", "--gate-init-scale must be a finite number >= 0"},
      {"experts", "many", "model attribute 'experts' is not a count: 'many'"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.key);
    CAPTURE(c.value);
    const std::string path = model_file(c.key, c.value);
    const std::string message = read_model_error(path);
    CAPTURE(message);
    CHECK(message.rfind(path + ": ", 0) == 0);  // names the file
    CHECK(message.find(c.needle) != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
    std::filesystem::remove(path);
  }
  // The same file untouched reads back.
  const std::string path = model_file("", "");
  CHECK(read_model_error(path).empty());
  std::filesystem::remove(path);
}
