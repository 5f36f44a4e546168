#include "moe/bench/sparse_bench.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>

#include <armadillo>

#include "moe/bench/timing.hpp"
#include "moe/core/atomic_file.hpp"
#include "moe/core/build_info.hpp"
#include "moe/core/error.hpp"
#include "moe/core/rng.hpp"
#include "moe/core/threads.hpp"
#include "moe/h5/hdf5.hpp"
#include "moe/backend/cpu_blas.hpp"
#include "moe/backend/cpu_sparse_ffn.hpp"
#include "moe/backend/cuda_sparse_ffn.hpp"
#include "moe/sparse/routing_stats.hpp"

namespace moe {

namespace {

using bench::Clock;
using bench::median;
using bench::seconds_since;

// Values in [-scale, scale) from a cheap generator: the benchmark's gigabytes of weights are filled
// in well under a second, and no value is zero or denormal enough to change the GEMMs' speed.
template <class T>
void fill_uniform(std::vector<T>& v, double scale, std::uint64_t seed) {
  std::uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
#pragma omp parallel for schedule(static) firstprivate(s)
  for (long i = 0; i < long(v.size()); ++i) {
    std::uint64_t x = s + std::uint64_t(i) * 0xBF58476D1CE4E5B9ull;
    x ^= x >> 31, x *= 0x94D049BB133111EBull, x ^= x >> 29;
    v[std::size_t(i)] = T(scale * (double(x >> 11) * 0x1.0p-53 * 2.0 - 1.0));
  }
}

template <class T>
SparseBenchRow bench_cpu(const SparseBenchCase& c, const SparseBenchOptions& o, const RoutingPlan& routing,
                         SparseBenchRow row) {
  const std::size_t d = c.model_dim, f = c.ff_dim, E = c.experts, T_ = c.tokens;
  std::vector<T> W1(f * d * E), b1(f * E), W2(d * f * E), b2(d * E), X(d * T_), dY(d * T_), Y(d * T_), dX(d * T_);
  std::vector<T> gW1(W1.size(), T(0)), gb1(b1.size(), T(0)), gW2(W2.size(), T(0)), gb2(b2.size(), T(0));
  fill_uniform(W1, 1.0 / std::sqrt(double(d)), o.seed + 1);
  fill_uniform(W2, 1.0 / std::sqrt(double(f)), o.seed + 2);
  fill_uniform(b1, 0.1, o.seed + 3);
  fill_uniform(b2, 0.1, o.seed + 4);
  fill_uniform(X, 1.0, o.seed + 5);
  fill_uniform(dY, 1.0, o.seed + 6);
  const kernels::ExpertWeights<T> w{d, f, E, W1.data(), b1.data(), W2.data(), b2.data()};
  const kernels::ExpertGrads<T> g{gW1.data(), gb1.data(), gW2.data(), gb2.data()};
  kernels::SparseFfnWorkspace<T> ws;
  std::vector<T> weight, dweight;
  // Dense GEMMs of the same FLOPs: one FFN of the same shapes over all A assignments, its six products,
  // measured two ways in the same run: (a) split into row blocks under OpenMP with single-threaded BLAS
  // (the layer's own threading), timed in the same step as the layer so both see the same machine, and
  // (b) OpenBLAS's own threads on every core, in a block of steps after the layer's (its spinning workers
  // would slow an OpenMP step right after it). The dense time is the faster of the two medians: the
  // fraction never flatters the layer.
  const std::size_t A = row.assignments;
  std::vector<T> in(d * A), h(f * A), out(d * A), gd(d * A), gf(f * A), gw1(f * d), gw2(d * f);
  fill_uniform(in, 1.0, 7), fill_uniform(h, 1.0, 8), fill_uniform(gd, 1.0, 9), fill_uniform(gf, 1.0, 10);
  const T beta = o.accumulate ? T(1) : T(0);
  // The six products; rows [r0, r1) of each output when split (f rows or d rows), whole when not.
  auto dense_forward = [&](int part, int parts) {  // h = W1 in (rows of f)
    const int fa = int(f) * part / parts, fb = int(f) * (part + 1) / parts, n = int(A), F = int(f), D = int(d);
    kernels::gemm(false, false, fb - fa, n, D, T(1), W1.data() + fa, F, in.data(), D, T(0), h.data() + fa, F);
  };
  auto dense_forward2 = [&](int part, int parts) {  // out = W2 h (rows of d)
    const int da = int(d) * part / parts, db = int(d) * (part + 1) / parts, n = int(A), F = int(f), D = int(d);
    kernels::gemm(false, false, db - da, n, F, T(1), W2.data() + da, D, h.data(), F, T(0), out.data() + da, D);
  };
  auto dense_backward1 = [&](int part, int parts) {  // gf = W2' gd (rows of f); gw2 += gd h' (rows of d)
    const int fa = int(f) * part / parts, fb = int(f) * (part + 1) / parts;
    const int da = int(d) * part / parts, db = int(d) * (part + 1) / parts, n = int(A), F = int(f), D = int(d);
    kernels::gemm(true, false, fb - fa, n, D, T(1), W2.data() + std::size_t(fa) * D, D, gd.data(), D, T(0),
                  gf.data() + fa, F);
    kernels::gemm(false, true, db - da, F, n, T(1), gd.data() + da, D, h.data(), F, beta, gw2.data() + da, D);
  };
  auto dense_backward2 = [&](int part, int parts) {  // gw1 += gf in' (rows of f); out = W1' gf (rows of d)
    const int fa = int(f) * part / parts, fb = int(f) * (part + 1) / parts;
    const int da = int(d) * part / parts, db = int(d) * (part + 1) / parts, n = int(A), F = int(f), D = int(d);
    kernels::gemm(false, true, fb - fa, D, n, T(1), gf.data() + fa, F, in.data(), D, beta, gw1.data() + fa, F);
    kernels::gemm(true, false, db - da, n, F, T(1), W1.data() + std::size_t(da) * F, F, gf.data(), F, T(0),
                  out.data() + da, D);
  };
  auto split = [&](auto stage) {
    const int parts = max_threads();
#pragma omp parallel for schedule(static, 1)
    for (int p = 0; p < parts; ++p) stage(p, parts);
  };
  std::vector<double> t_fwd, t_train, s_fwd, s_train, b_fwd, b_train;
  for (std::size_t step = 0; step <= o.steps; ++step) {
    // The plan is rebuilt each step (counting sort), as a layer does for every batch.
    auto t0 = Clock::now();
    const RoutingPlan plan = make_plan(T_, E, c.k, routing.slot_expert, routing.slot_weight, 0);
    weight.assign(plan.sorted_weight.begin(), plan.sorted_weight.end());
    dweight.resize(weight.size());
    const kernels::PlanView view = plan_view(plan);
    kernels::sparse_ffn_forward<T>(view, weight.data(), w, FfnActivation::relu, X.data(), true, Y.data(), ws);
    const double fwd = seconds_since(t0);
    kernels::sparse_ffn_backward<T>(view, weight.data(), w, FfnActivation::relu, dY.data(), true, dX.data(), g,
                                    dweight.data(), ws, o.accumulate ? kernels::GradMode::accumulate
                                                                     : kernels::GradMode::overwrite);
    const double train = seconds_since(t0);
    t0 = Clock::now();
    split(dense_forward);
    split(dense_forward2);
    const double dense_fwd = seconds_since(t0);
    split(dense_backward1);
    split(dense_backward2);
    const double dense_train = seconds_since(t0);
    if (step > 0) {
      t_fwd.push_back(fwd), t_train.push_back(train);
      s_fwd.push_back(dense_fwd), s_train.push_back(dense_train);
    }
  }
  {
    const BlasThreadsScope blas(max_threads());
    for (std::size_t step = 0; step <= o.steps; ++step) {
      auto t0 = Clock::now();
      dense_forward(0, 1);
      dense_forward2(0, 1);
      const double dense_fwd = seconds_since(t0);
      dense_backward1(0, 1);
      dense_backward2(0, 1);
      const double dense_train = seconds_since(t0);
      if (step > 0) b_fwd.push_back(dense_fwd), b_train.push_back(dense_train);
    }
  }
  row.forward_seconds = median(t_fwd);
  row.training_seconds = median(t_train);
  row.dense_forward_seconds = std::min(median(s_fwd), median(b_fwd));
  row.dense_training_seconds = std::min(median(s_train), median(b_train));
  return row;
}

}  // namespace

void check_options(const SparseBenchOptions& o) {
  require(o.steps >= 1, "--steps must be at least 1");
  require(o.device == "cpu" || o.device == "cuda", "unknown --device '" + o.device + "' (expected cpu or cuda)");
  if (o.device == "cpu")
    require(o.precision == "float" || o.precision == "double",
            "--precision on the CPU is float or double (got " + o.precision + ")");
  else
    require(o.precision == "float" || o.precision == "bf16" || o.precision == "tf32",
            "--precision on the GPU is bf16, float or tf32 (got " + o.precision + ")");
  require(o.device != "cuda" || kernels::cuda_built(),
          "this build has no CUDA backend (configure with -DMOE_CUDA=ON on a machine with the CUDA toolkit)");
}

void check_case(const SparseBenchCase& c) {
  require(c.tokens >= 1 && c.model_dim >= 1 && c.ff_dim >= 1 && c.experts >= 1 && c.k >= 1,
          "--tokens, --d-model, --d-ff, --experts and --k must be at least 1");
  require(c.k <= c.experts, "--k " + std::to_string(c.k) + " is larger than --experts " + std::to_string(c.experts));
  require(c.imbalance >= 0.0 && std::isfinite(c.imbalance), "--imbalance must be finite and >= 0");
}

RoutingPlan synthetic_routing(const SparseBenchCase& c, std::uint64_t seed) {
  check_case(c);
  std::vector<double> popularity(c.experts);
  double total = 0.0;
  for (std::size_t e = 0; e < c.experts; ++e) total += popularity[e] = std::pow(double(e + 1), -c.imbalance);
  Rng rng(seed);
  std::vector<std::int32_t> expert(c.tokens * c.k);
  std::vector<double> weight(c.tokens * c.k);
  std::vector<char> taken(c.experts, 0);
  for (std::size_t t = 0; t < c.tokens; ++t) {
    // Without replacement: draw from the popularity left over by this token's earlier choices.
    double left = total, sum = 0.0;
    for (std::size_t s = 0; s < c.k; ++s) {
      double u = rng.uniform() * left, acc = 0.0;
      std::size_t e = 0;
      for (; e < c.experts; ++e) {
        if (taken[e]) continue;
        acc += popularity[e];
        if (acc > u) break;
      }
      if (e == c.experts)  // rounding at the top end: the last expert not taken
        for (e = c.experts; e-- > 0;)
          if (!taken[e]) break;
      taken[e] = 1;
      left -= popularity[e];
      expert[t * c.k + s] = std::int32_t(e);
      sum += weight[t * c.k + s] = 0.5 + rng.uniform();
    }
    for (std::size_t s = 0; s < c.k; ++s) {
      taken[std::size_t(expert[t * c.k + s])] = 0;
      weight[t * c.k + s] /= sum;
    }
  }
  return make_plan(c.tokens, c.experts, c.k, std::move(expert), std::move(weight), 0);
}

SparseBenchRow run_sparse_bench(const SparseBenchCase& c, const SparseBenchOptions& o) {
  check_options(o);
  SparseBenchRow row;
  row.c = c;
  row.device = o.device;
  row.precision = o.precision;
  const RoutingPlan plan = synthetic_routing(c, o.seed);
  row.assignments = plan.assignments();
  arma::vec load(plan.experts);
  for (std::size_t e = 0; e < plan.experts; ++e) load[e] = double(plan.expert_count(e));
  row.max_over_mean_load = routing_stats(arma::vec(plan.experts, arma::fill::zeros), load, 0.0, 0.0).max_mean_load;
  const double gemm = 2.0 * double(c.model_dim) * double(c.ff_dim) * double(row.assignments);
  row.forward_flops = 2.0 * gemm;
  row.training_flops = 6.0 * gemm;
  if (o.device == "cpu")
    return o.precision == "float" ? bench_cpu<float>(c, o, plan, row) : bench_cpu<double>(c, o, plan, row);
  const kernels::CudaBenchResult r = kernels::cuda_sparse_bench(plan_view(plan), plan.sorted_weight.data(),
                                                                c.model_dim, c.ff_dim, o.precision, o.steps, o.seed);
  row.forward_seconds = r.forward_seconds;
  row.training_seconds = r.training_seconds;
  row.dense_forward_seconds = r.dense_forward_seconds;
  row.dense_training_seconds = r.dense_training_seconds;
  return row;
}

void write_sparse_bench_csv(const std::string& path, const std::vector<SparseBenchRow>& rows) {
  write_file_atomically(path, [&](std::ostream& out) {
    out << "device,precision,tokens,d_model,d_ff,experts,k,imbalance,max_over_mean_load,assignments,"
           "forward_gflop,forward_ms,forward_gflops,dense_forward_ms,forward_fraction_of_dense,"
           "training_gflop,training_ms,training_gflops,dense_training_ms,training_fraction_of_dense\n";
    char line[1024];
    for (const SparseBenchRow& r : rows) {
      std::snprintf(line, sizeof line,
                    "%s,%s,%zu,%zu,%zu,%zu,%zu,%g,%.4f,%zu,%.4f,%.4f,%.2f,%.4f,%.4f,%.4f,%.4f,%.2f,%.4f,%.4f\n",
                    r.device.c_str(), r.precision.c_str(), r.c.tokens, r.c.model_dim, r.c.ff_dim, r.c.experts, r.c.k,
                    r.c.imbalance, r.max_over_mean_load, r.assignments, r.forward_flops * 1e-9,
                    r.forward_seconds * 1e3, r.forward_rate() * 1e-9, r.dense_forward_seconds * 1e3,
                    r.forward_fraction(), r.training_flops * 1e-9, r.training_seconds * 1e3,
                    r.training_rate() * 1e-9, r.dense_training_seconds * 1e3, r.training_fraction());
      out << line;
    }
  });
}

void write_sparse_bench_hdf5(const std::string& path, const std::vector<SparseBenchRow>& rows) {
  h5::File file = h5::File::create(path);
  file.set_attr("/", "version", build::version);
  file.set_attr("/", "git_revision", build::git_revision);
  file.set_attr("/", "build_flags", build::flags);
  file.set_attr("/", "threads", std::int64_t(max_threads()));
  const arma::uword n = rows.size();
  auto column = [&](const std::string& name, auto get) {
    arma::vec v(n);
    for (arma::uword i = 0; i < n; ++i) v[i] = double(get(rows[i]));
    file.write("sparse/" + name, v);
  };
  std::vector<std::string> device, precision;
  for (const SparseBenchRow& r : rows) device.push_back(r.device), precision.push_back(r.precision);
  file.write("sparse/device", device);
  file.write("sparse/precision", precision);
  column("tokens", [](const SparseBenchRow& r) { return r.c.tokens; });
  column("d_model", [](const SparseBenchRow& r) { return r.c.model_dim; });
  column("d_ff", [](const SparseBenchRow& r) { return r.c.ff_dim; });
  column("experts", [](const SparseBenchRow& r) { return r.c.experts; });
  column("k", [](const SparseBenchRow& r) { return r.c.k; });
  column("imbalance", [](const SparseBenchRow& r) { return r.c.imbalance; });
  column("max_over_mean_load", [](const SparseBenchRow& r) { return r.max_over_mean_load; });
  column("assignments", [](const SparseBenchRow& r) { return r.assignments; });
  column("forward_flops", [](const SparseBenchRow& r) { return r.forward_flops; });
  column("forward_seconds", [](const SparseBenchRow& r) { return r.forward_seconds; });
  column("dense_forward_seconds", [](const SparseBenchRow& r) { return r.dense_forward_seconds; });
  column("training_flops", [](const SparseBenchRow& r) { return r.training_flops; });
  column("training_seconds", [](const SparseBenchRow& r) { return r.training_seconds; });
  column("dense_training_seconds", [](const SparseBenchRow& r) { return r.dense_training_seconds; });
  file.commit();
}

}  // namespace moe
