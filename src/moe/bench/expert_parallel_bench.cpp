#include "moe/bench/expert_parallel_bench.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <ostream>

#include <armadillo>

#include "moe/bench/timing.hpp"
#include "moe/core/atomic_file.hpp"
#include "moe/core/build_info.hpp"
#include "moe/core/error.hpp"
#include "moe/core/rng.hpp"
#include "moe/core/threads.hpp"
#include "moe/h5/hdf5.hpp"
#include "moe/backend/backend_registry.hpp"
#include "moe/sparse/moe_layer.hpp"

namespace moe {

namespace {

using bench::Clock;
using bench::median;
using bench::seconds_since;

// Every rank's value, in rank order (a sum of vectors that are zero but for one entry each).
std::vector<double> gather(Communicator& comm, double x) {
  std::vector<double> all(std::size_t(comm.size()), 0.0);
  all[std::size_t(comm.rank())] = x;
  comm.allreduce_sum(all.data(), all.size());
  return all;
}

SparseLayerSpec layer_spec(const ExpertParallelBenchCase& c) {
  SparseLayerSpec s;
  s.router = "topk";
  s.top_k = c.k;
  s.model_dim = c.model_dim;
  s.ff_dim = c.ff_dim;
  s.capacity_factor = c.capacity_factor;
  s.device = c.device;
  s.precision = c.precision;
  return s;
}

// This rank's share of the batch: tokens split evenly, the first T mod P ranks one more.
std::size_t my_tokens(const ExpertParallelBenchCase& c, std::size_t ranks, std::size_t rank) {
  return c.tokens / ranks + (rank < c.tokens % ranks ? 1 : 0);
}

struct StepTimes {
  std::vector<double> step, comm;  // this rank, per timed step
  double received = 0.0;           // columns this rank's experts ran on, summed over timed steps
  double assignments = 0.0;        // kept assignments of this rank's tokens, summed
};

// Training steps of the layer on X (forward, backward from dY, the layer's step), each timed.
StepTimes time_steps(const SparseLayerSpec& spec, std::size_t experts, std::uint64_t seed, Communicator* comm,
                     const arma::mat& X, const arma::mat& dY, std::size_t steps) {
  std::unique_ptr<Backend> b = layer_backend(spec);
  BackendParams params(*b);
  MoeLayer layer(spec, experts, params, "", comm);
  Rng init(seed);
  layer.init(init);
  params.from_host();
  Tensor Xt = b->tensor(X.n_rows, X.n_cols), dYt = b->tensor(dY.n_rows, dY.n_cols), Y, dX, aux = b->zeros(1, 1);
  if (X.n_elem > 0) b->upload(Xt, X.memptr()), b->upload(dYt, dY.memptr());
  StepTimes out;
  for (std::size_t step = 0; step <= steps; ++step) {
    if (comm) {
      double sync = 0.0;  // start together, so each rank's time is its own step, not the others' lag
      comm->allreduce_sum(&sync, 1);
    }
    const double comm0 = comm ? comm->seconds() : 0.0;
    const auto t0 = Clock::now();
    layer.forward(Xt, true, Y);
    layer.backward(Xt, dYt, dX, aux, false);
    layer.end_step();
    b->synchronize();
    const double seconds = seconds_since(t0);
    if (step == 0) continue;  // warm-up: first-touch of the buffers
    out.step.push_back(seconds);
    out.comm.push_back((comm ? comm->seconds() : 0.0) - comm0);
    out.assignments += double(layer.kept_assignments());
    out.received += layer.expert_tokens();
  }
  return out;
}

}  // namespace

void check_case(const ExpertParallelBenchCase& c, std::size_t ranks) {
  require(c.tokens >= 1 && c.model_dim >= 1 && c.ff_dim >= 1 && c.experts >= 1,
          "moe-bench expert-parallel: --tokens, --d-model, --d-ff and --experts must be at least 1");
  require(c.k >= 1 && c.k <= c.experts, "moe-bench expert-parallel: --k must be between 1 and --experts");
  require(c.steps >= 1, "moe-bench expert-parallel: --steps must be at least 1");
  layer_spec(c).validate(c.experts);  // e.g. a device or precision this build lacks: before any collective
  require(ranks <= c.experts, "moe-bench expert-parallel: " + std::to_string(ranks) + " processes for " +
                                  std::to_string(c.experts) + " experts (at most one process per expert)");
}

ExpertParallelBenchRow run_expert_parallel_bench(Communicator& comm, const ExpertParallelBenchCase& c) {
  const auto P = std::size_t(comm.size()), me = std::size_t(comm.rank());
  check_case(c, P);
  ExpertParallelBenchRow row;
  row.c = c;
  row.ranks = P;
  row.threads = std::size_t(max_threads());
  const SparseLayerSpec spec = layer_spec(c);
  // This rank's tokens and output gradients: its own stream of the seed.
  Rng data = Rng(c.seed).stream(me);
  const std::size_t T = my_tokens(c, P, me);
  const arma::mat X = data.normal_matrix(c.model_dim, T), dY = data.normal_matrix(c.model_dim, T);
  if (P == 1)  // the single-process layer on the same tokens (first: any warm-up favours the other)
    row.single_seconds = median(time_steps(spec, c.experts, c.seed, nullptr, X, dY, c.steps).step);
  const StepTimes mine = time_steps(spec, c.experts, c.seed, &comm, X, dY, c.steps);

  const std::size_t n = mine.step.size();
  std::vector<double> slowest_step(n), slowest_comm(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::vector<double> s = gather(comm, mine.step[i]), m = gather(comm, mine.comm[i]);
    slowest_step[i] = *std::max_element(s.begin(), s.end());
    slowest_comm[i] = *std::max_element(m.begin(), m.end());
  }
  row.step_seconds = median(slowest_step);
  row.comm_seconds = median(slowest_comm);
  row.rank_comm_seconds = gather(comm, median(mine.comm));
  row.rank_tokens = gather(comm, mine.received / double(n));
  const std::vector<double> kept = gather(comm, mine.assignments / double(n));
  for (const double a : kept) row.assignments += a;
  row.flops = 12.0 * double(c.model_dim) * double(c.ff_dim) * row.assignments;

  // The machine's dense GEMM rate in this run, at the size of one rank's expert work: f x d by d x (A / P).
  double rate = 0.0;
  if (me == 0) {
    const auto cols = arma::uword(std::max(1.0, row.assignments / double(P)));
    const arma::mat W = data.normal_matrix(c.ff_dim, c.model_dim), In = data.normal_matrix(c.model_dim, cols);
    arma::mat H;
    std::vector<double> t;
    for (int rep = 0; rep < 4; ++rep) {
      const auto t0 = Clock::now();
      H = W * In;
      if (rep > 0) t.push_back(seconds_since(t0));
    }
    rate = 2.0 * double(c.ff_dim) * double(c.model_dim) * double(cols) / median(t);
  }
  comm.allreduce_sum(&rate, 1);
  row.dense_gemm_rate = rate;
  return row;
}

void write_expert_parallel_csv(const std::string& path, const ExpertParallelBenchRow& r) {
  write_file_atomically(path, [&](std::ostream& out) {
    out << "device,precision,ranks,threads_per_rank,tokens,d_model,d_ff,experts,k,capacity_factor,assignments,step_seconds,"
           "comm_seconds,single_process_seconds,tokens_per_second,gflops_per_rank,dense_gemm_gflops";
    for (std::size_t p = 0; p < r.ranks; ++p) out << ",rank" << p << "_tokens";
    for (std::size_t p = 0; p < r.ranks; ++p) out << ",rank" << p << "_comm_seconds";
    out << "\n"
        << r.c.device << ',' << layer_spec(r.c).backend_precision() << ','
        << r.ranks << ',' << r.threads << ',' << r.c.tokens << ',' << r.c.model_dim << ',' << r.c.ff_dim << ','
        << r.c.experts << ',' << r.c.k << ',' << r.c.capacity_factor << ',' << r.assignments << ',' << r.step_seconds
        << ',' << r.comm_seconds << ',' << r.single_seconds << ',' << r.tokens_per_second() << ','
        << r.rate_per_rank() * 1e-9 << ',' << r.dense_gemm_rate * 1e-9;
    for (const double t : r.rank_tokens) out << ',' << t;
    for (const double s : r.rank_comm_seconds) out << ',' << s;
    out << "\n";
  });
}

void write_expert_parallel_hdf5(const std::string& path, const ExpertParallelBenchRow& r) {
  h5::File file = h5::File::create(path);
  file.set_attr("/", "version", build::version);
  file.set_attr("/", "git_revision", build::git_revision);
  file.set_attr("/", "build_flags", build::flags);
  auto scalar = [&](const std::string& name, double v) { file.write("expert_parallel/" + name, arma::vec{v}); };
  file.set_attr("/", "device", r.c.device);
  file.set_attr("/", "precision", layer_spec(r.c).backend_precision());
  scalar("ranks", double(r.ranks));
  scalar("threads_per_rank", double(r.threads));
  scalar("tokens", double(r.c.tokens));
  scalar("d_model", double(r.c.model_dim));
  scalar("d_ff", double(r.c.ff_dim));
  scalar("experts", double(r.c.experts));
  scalar("k", double(r.c.k));
  scalar("capacity_factor", r.c.capacity_factor);
  scalar("assignments", r.assignments);
  scalar("step_seconds", r.step_seconds);
  scalar("comm_seconds", r.comm_seconds);
  scalar("single_process_seconds", r.single_seconds);
  scalar("flops", r.flops);
  scalar("dense_gemm_rate", r.dense_gemm_rate);
  file.write("expert_parallel/rank_tokens", arma::vec(r.rank_tokens));
  file.write("expert_parallel/rank_comm_seconds", arma::vec(r.rank_comm_seconds));
  file.commit();
}

}  // namespace moe
