#pragma once
// moe-bench expert-parallel: time per training step (forward, backward and the layer's step) of the
// expert-parallel sparse MoE layer (sparse/moe_layer.hpp with a Communicator) on P ranks, with the time spent in the all-to-all
// exchange and the other collectives, each rank's load, and the same run's dense GEMM rate. Run under
// `mpirun -np P moe-bench expert-parallel ...` for each P; P = 1 also times the layer without a
// communicator (the single-process layer), the baseline the others are read against.
// Fixed global batch: the tokens are split evenly over the ranks (strong scaling); for fixed tokens per rank
// (weak scaling) scale --tokens with P. The layer runs on a compute backend (--device, --precision).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "moe/parallel/communicator.hpp"

namespace moe {

struct ExpertParallelBenchCase {
  std::size_t tokens = 8192, model_dim = 256, ff_dim = 512, experts = 8, k = 2;  // tokens: the whole batch
  double capacity_factor = 0.0;  // <= 0: dropless
  std::size_t steps = 5;         // timed steps, after one warm-up
  std::uint64_t seed = 1;
  std::string device = "cpu";    // the compute backend each rank's layer runs on
  std::string precision;         // "": the device's default (cpu: double)
};

struct ExpertParallelBenchRow {
  ExpertParallelBenchCase c;
  std::size_t ranks = 1, threads = 1;
  double assignments = 0.0;         // kept (token, expert) pairs of the batch, per step
  double step_seconds = 0.0;        // median over steps of the slowest rank's forward + backward
  double comm_seconds = 0.0;        // median over steps of the slowest rank's time in collectives
  double single_seconds = 0.0;      // P = 1: the same step without a communicator; 0 otherwise
  double flops = 0.0;               // expert GEMM FLOPs of a step, 12 d f A (forward 4, backward 8)
  double dense_gemm_rate = 0.0;     // rank 0, same run: FLOP/s of one f x d by d x (A / P) GEMM
  std::vector<double> rank_tokens;  // per rank: columns its experts ran on, mean over steps
  std::vector<double> rank_comm_seconds;  // per rank: median time in collectives per step
  double tokens_per_second() const { return double(c.tokens) / step_seconds; }
  double rate_per_rank() const { return flops / step_seconds / double(ranks); }
};

// Throws moe::Error naming the flag for an impossible setting (sizes 0, k > experts, ranks > experts).
void check_case(const ExpertParallelBenchCase& c, std::size_t ranks);

// Collective: every rank calls it; the row is complete on every rank.
ExpertParallelBenchRow run_expert_parallel_bench(Communicator& comm, const ExpertParallelBenchCase& c);

void write_expert_parallel_csv(const std::string& path, const ExpertParallelBenchRow& row);
void write_expert_parallel_hdf5(const std::string& path, const ExpertParallelBenchRow& row);

}  // namespace moe
