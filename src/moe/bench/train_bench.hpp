#pragma once
// moe-bench train: whole training steps of the sparse network on
// the compute backend (embedding, router, routed experts, output layer, loss, optimiser), median ms per
// step over --steps after a warm-up, beside the same-run rate of the backend's dense GEMMs of the step's
// FLOPs.
#include <cstddef>
#include <cstdint>
#include <string>

namespace moe {

struct TrainBenchCase {
  std::size_t tokens = 128, inputs = 784, model_dim = 64, ff_dim = 64, experts = 16, k = 2, classes = 10;
  std::string device = "cpu", precision = "float", optimizer = "adam";
  std::size_t steps = 50;
  std::uint64_t seed = 1;
};

struct TrainBenchRow {
  TrainBenchCase c;
  double flops = 0;          // GEMM FLOPs of one step (embedding, router, experts, output; forward + backward)
  double step_seconds = 0;   // median
  double dense_seconds = 0;  // dense GEMMs of the same FLOPs on the same backend
  double loss_first = 0, loss_last = 0;  // mean loss of the first and last timed step
};

TrainBenchRow run_train_bench(const TrainBenchCase& c);

}  // namespace moe
