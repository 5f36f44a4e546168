#pragma once
// moe-bench sparse: the routed sparse MoE layer's experts (plan, gather, the two expert GEMMs, activation,
// combine; and the backward) timed on synthetic routing, beside dense GEMMs of the same FLOPs measured in
// the same run on the same device. A grid of cases (the product of every listed value) -> one row each.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "moe/backend/routing_plan.hpp"

namespace moe {

struct SparseBenchCase {
  std::size_t tokens = 4096, model_dim = 512, ff_dim = 1024, experts = 8, k = 2;
  double imbalance = 0.0;  // Zipf exponent of the experts' popularity: 0 uniform, 1 expert 0 twice expert 1, ...
};

struct SparseBenchRow {
  SparseBenchCase c;
  std::string device, precision;
  std::size_t assignments = 0;
  double max_over_mean_load = 0.0;         // the realised imbalance
  double forward_flops = 0.0, training_flops = 0.0;      // GEMM FLOPs: 4 d f A and 12 d f A
  double forward_seconds = 0.0, training_seconds = 0.0;  // median over the timed steps
  double dense_forward_seconds = 0.0, dense_training_seconds = 0.0;  // dense GEMMs of the same FLOPs
  double forward_rate() const { return forward_flops / forward_seconds; }
  double training_rate() const { return training_flops / training_seconds; }
  double forward_fraction() const { return dense_forward_seconds / forward_seconds; }
  double training_fraction() const { return dense_training_seconds / training_seconds; }
};

struct SparseBenchOptions {
  std::string device = "cpu";        // cpu | cuda
  std::string precision = "float";   // cpu: float | double; cuda: bf16 | float | tf32
  std::size_t steps = 5;             // timed steps per case (after one warm-up)
  bool accumulate = false;           // cpu: backward adds to the gradients (default: writes them, as the
                                     // GPU backend and PyTorch after zero_grad(set_to_none=True) do)
  std::uint64_t seed = 1;
};

// Each throws moe::Error naming the flag (moe-bench's wording) for an impossible setting: check_options
// for steps, device, precision and a CUDA build; check_case for sizes, k <= experts and the imbalance.
void check_options(const SparseBenchOptions& options);
void check_case(const SparseBenchCase& c);

// The slots of T tokens: k distinct experts each, drawn without replacement with probability proportional
// to (e + 1)^-imbalance, weights positive and summing to 1 per token; dropless.
RoutingPlan synthetic_routing(const SparseBenchCase& c, std::uint64_t seed);

SparseBenchRow run_sparse_bench(const SparseBenchCase& c, const SparseBenchOptions& options);

void write_sparse_bench_csv(const std::string& path, const std::vector<SparseBenchRow>& rows);
void write_sparse_bench_hdf5(const std::string& path, const std::vector<SparseBenchRow>& rows);

}  // namespace moe
