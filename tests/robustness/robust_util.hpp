#pragma once
// Shared by the numeric-robustness tests: small data sets written as CSV, one model
// configuration per model kind and trainer, a run through the full moe-train path (run_train_job: load,
// standardise, train, write the HDF5 results), and a check that nothing in the results file is NaN or Inf.
#include <doctest/doctest.h>

#include <armadillo>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "cli/run_command.hpp"
#include "moe/core/rng.hpp"
#include "moe/h5/hdf5.hpp"
#include "moe/run/train_job.hpp"

namespace moe::test {

// Feature columns x0 .. x{d-1} from X (d x N) and a target column y (one value per observation),
// written with 17 significant digits (the CSV reader gets back the same doubles).
inline std::string write_table(const TempDir& dir, const std::string& name, const arma::mat& X,
                               const std::vector<std::string>& y) {
  const std::string path = dir / name;
  std::ofstream out(path);
  for (arma::uword k = 0; k < X.n_rows; ++k) out << "x" << k << ",";
  out << "y\n";
  char buf[40];
  for (arma::uword j = 0; j < X.n_cols; ++j) {
    for (arma::uword k = 0; k < X.n_rows; ++k) {
      std::snprintf(buf, sizeof buf, "%.17g", X(k, j));
      out << buf << ",";
    }
    out << y[j] << "\n";
  }
  return path;
}

inline std::vector<std::string> numbers(const arma::rowvec& v) {
  std::vector<std::string> out;
  char buf[40];
  for (double x : v) {
    std::snprintf(buf, sizeof buf, "%.17g", x);
    out.push_back(buf);
  }
  return out;
}

// A two-feature problem of n points with structure for experts to split: classification into three
// classes by region (labels "a", "b", "c"), or the regression target |x0| - x1 plus noise (not scaled).
struct Toy {
  arma::mat X;                 // 2 x n, standard normal
  std::vector<std::string> y;  // labels or numbers
};

inline Toy make_toy(arma::uword n, bool classification, std::uint64_t seed) {
  Rng rng(seed);
  Toy t{rng.normal_matrix(2, n), {}};
  if (classification) {
    for (arma::uword j = 0; j < n; ++j) t.y.push_back(t.X(0, j) > 0.3 ? "a" : (t.X(1, j) > 0.0 ? "b" : "c"));
  } else {
    const arma::rowvec y = arma::abs(t.X.row(0)) - t.X.row(1) + rng.normal_matrix(1, n, 0.1);
    t.y = numbers(y);
  }
  return t;
}

// One model kind with one trainer.
struct Config {
  std::string name;
  bool classification;
  std::function<void(TrainJob&)> set;
};

inline TrainJob base_job(const std::string& csv, arma::uword d, bool classification, const std::string& output) {
  TrainJob job;
  job.data.path = csv;
  for (arma::uword k = 0; k < d; ++k) {  // "x" + std::to_string(k) trips GCC 12's false -Wrestrict warning
    std::string name = "x";
    job.data.features.push_back(name.append(std::to_string(k)));
  }
  job.data.target = "y";
  job.data.task = classification ? "classification" : "regression";
  job.train.quiet = true;
  job.train.epochs = 20;
  job.seed = 5;
  job.threads = 1;
  job.output = output;
  return job;
}

inline void gradient(TrainJob& j, const std::string& optimizer = "adam", double rate = 0.05) {
  j.train.method = "gradient";
  j.train.optimizer.name = optimizer;
  j.train.optimizer.learning_rate = rate;
}

// Every model kind, with each trainer it supports (gradient; EM; on-line EM for the tree).
inline std::vector<Config> all_configs() {
  std::vector<Config> c;
  auto mixture = [](const std::string& expert, const std::string& gate) {
    return [=](TrainJob& j) {
      j.model.kind = "mixture";
      j.model.experts = 3;
      j.model.expert = expert;
      j.model.gate = gate;
    };
  };
  auto with = [](std::function<void(TrainJob&)> a, std::function<void(TrainJob&)> b) {
    return [=](TrainJob& j) {
      a(j);
      b(j);
    };
  };
  auto em = [](TrainJob& j) { j.train.method = "em"; };
  auto grad = [](TrainJob& j) { gradient(j); };
  // Regression.
  c.push_back({"mixture linear-gaussian, gradient", false, with(mixture("linear-gaussian", "linear"), grad)});
  c.push_back({"mixture linear-gaussian, em", false, with(mixture("linear-gaussian", "linear"), em)});
  c.push_back({"mixture gaussian experts, gaussian gate, em", false, with(mixture("gaussian", "gaussian"), em)});
  c.push_back({"mixture linear-gaussian, gaussian gate, gradient", false,
               with(mixture("linear-gaussian", "gaussian"), grad)});
  c.push_back({"mixture linear-gaussian-full, em", false, with(mixture("linear-gaussian-full", "linear"), em)});
  c.push_back({"mixture linear-gaussian-full, gradient", false,
               with(mixture("linear-gaussian-full", "linear"), grad)});
  auto hme = [](TrainJob& j) {
    j.model.kind = "hme";
    j.model.depth = 2;
    j.model.branching = 2;
    j.model.expert = "linear-gaussian";
  };
  c.push_back({"hme, em", false, with(hme, em)});
  c.push_back({"hme, online-em", false, with(hme, [](TrainJob& j) { j.train.method = "online-em"; })});
  c.push_back({"hme, gradient", false, with(hme, grad)});
  c.push_back({"mlp regression, gradient", false, [](TrainJob& j) {
                 j.model.kind = "mlp";
                 j.model.output = "linear";
                 gradient(j);
               }});
  auto sparse = [](TrainJob& j) {
    j.model.kind = "sparse";
    j.model.experts = 4;
    j.model.sparse.model_dim = 6;
    j.model.sparse.ff_dim = 8;
    gradient(j, "adam", 0.01);
  };
  c.push_back({"sparse top-2, regression", false, sparse});
  // Classification.
  c.push_back({"mixture softmax, gradient", true, with(mixture("softmax", "linear"), grad)});
  c.push_back({"mixture softmax, em", true, with(mixture("softmax", "linear"), em)});
  c.push_back({"mixture softmax, gaussian gate, em", true, with(mixture("softmax", "gaussian"), em)});
  c.push_back({"hme softmax, em", true, with([](TrainJob& j) {
                 j.model.kind = "hme";
                 j.model.expert = "softmax";
               }, em)});
  c.push_back({"mlp, gradient", true, [](TrainJob& j) {
                 j.model.kind = "mlp";
                 gradient(j);
               }});
  c.push_back({"meta-pi softmax experts, gradient", true, [](TrainJob& j) {
                 j.model.kind = "meta-pi";
                 j.model.expert = "softmax";
                 j.model.experts = 3;
                 gradient(j);
               }});
  c.push_back({"deep moe, gradient", true, [](TrainJob& j) {
                 j.model.kind = "deep";
                 j.model.layer_experts = {2, 2};
                 j.model.expert_hidden = 6;
                 j.model.gate_hidden = 6;
                 gradient(j, "adam", 0.01);
               }});
  c.push_back({"sparse switch, classification", true, [=](TrainJob& j) {
                 sparse(j);
                 j.model.sparse.router = "switch";
               }});
  return c;
}

// Every numeric dataset of the results file, and the metric attributes of each /eval split, is finite.
inline void check_file_finite(const std::string& path) {
  const h5::File file = h5::File::open(path);
  std::function<void(const std::string&)> visit = [&](const std::string& group) {
    for (const std::string& name : file.children(group)) {
      const std::string object = group == "/" ? name : group + "/" + name;
      if (file.is_group(object)) {
        visit(object);
        continue;
      }
      if (file.is_string_dataset(object) || file.shape(object).empty()) continue;
      CAPTURE(object);
      CHECK(file.read_matrix(object).is_finite());
    }
  };
  visit("/");
  for (const std::string split : {"train", "valid", "test"}) {
    if (!file.is_group("eval/" + split)) continue;
    CAPTURE(split);
    for (const char* attr : {"loss", "mse", "accuracy"}) {
      CAPTURE(attr);
      CHECK(std::isfinite(file.attr_double("eval/" + split, attr)));
    }
  }
}

inline arma::mat read(const std::string& path, const std::string& object) {
  return h5::File::open(path).read_matrix(object);
}

}  // namespace moe::test
