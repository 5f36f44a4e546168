#pragma once
// The CUDA backend of the routed sparse MoE layer (cuda_sparse_ffn.cu), behind a host interface free of
// Armadillo and of CUDA types: the plan built on the GPU (histogram, prefix sum, scatter), the gather,
// the experts' GEMMs through cuBLAS (strided batches over a padded layout, or per-expert GEMMs), the
// activation, the combine and the backward. Element types: bf16 with float accumulation, float (FP32, no
// TF32) or tf32 (float storage, TF32 tensor cores). Without a CUDA build (-DMOE_CUDA=ON) the computing
// entry points throw moe::Error saying so (cuda_unavailable.cpp), cuda_built() is false and
// cuda_device_count() 0; a CUDA build without a visible GPU also counts 0 devices.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "moe/backend/cuda_device.hpp"
#include "moe/backend/ffn_activation.hpp"
#include "moe/backend/sparse_ffn_views.hpp"

namespace moe::kernels {

// cuda_built(), cuda_device_count(), cuda_device_name(), cuda_set_device(): moe/backend/cuda_device.hpp.

// One routed problem, host arrays (column-major, the layouts of sparse_ffn_views.hpp, in float).
struct CudaFfnProblem {
  std::size_t tokens = 0, experts = 0, k = 0, d = 0, f = 0, capacity = 0;  // capacity 0: dropless
  FfnActivation activation = FfnActivation::relu;
  bool residual = true;                   // Y = X + ..., dX = dY + ... (false: the caller adds them)
  std::vector<std::int32_t> slot_expert;  // T k, -1 empty
  std::vector<float> slot_weight;         // T k
  std::vector<float> X, dY;               // d x T
  std::vector<float> W1, b1, W2, b2;      // E experts back to back
};

// Everything the GPU computed, copied back (gradients start at 0 here).
struct CudaFfnResult {
  std::vector<std::int64_t> slot_position, expert_offsets;  // the plan the GPU built
  std::vector<std::int32_t> sorted_token;
  std::vector<float> Y, dX;            // d x T (residual included)
  std::vector<float> dweight;          // T k, per slot (0 for empty and dropped slots)
  std::vector<float> dW1, db1, dW2, db2;
  bool padded = false;                 // the working buffers' layout the run chose (MOE_CUDA_GEMM)
};

// One forward and its backward on the GPU, the state kept on the device in between (the sparse layer's
// --device cuda). forward uploads the slots, X and the weights (p.dY is not read) and returns Y (d x T);
// backward takes dY and returns dX, dweight, the plan and this forward's weight gradients (from 0).
// poison: fill every output and working buffer with NaN first (tests).
class CudaRoutedSession {
 public:
  explicit CudaRoutedSession(const std::string& precision);  // bf16 | float | tf32; throws without CUDA/GPU
  ~CudaRoutedSession();
  CudaRoutedSession(CudaRoutedSession&&) noexcept;
  CudaRoutedSession& operator=(CudaRoutedSession&&) noexcept;
  std::vector<float> forward(const CudaFfnProblem& p, bool poison = false);
  CudaFfnResult backward(const std::vector<float>& dY);
  // The same on data already on the GPU (the expert-parallel exchange, cuda_expert_exchange.hpp): X is a
  // device array of d x T floats (p.X is not read); Y stays on the device (d x T floats, valid until the
  // next call). backward_on_device takes dY on the device and leaves dX there (*dX; the result's dX is
  // empty); the rest of the result is copied back as backward's.
  const float* forward_on_device(const CudaFfnProblem& p, const float* X);
  CudaFfnResult backward_on_device(const float* dY, const float** dX);
  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// forward + backward through a CudaRoutedSession. precision: "bf16" | "float" | "tf32". Output buffers on the GPU are filled with NaN before the run, so
// an element the kernels fail to write shows up in the result.
CudaFfnResult cuda_sparse_ffn_run(const CudaFfnProblem& problem, const std::string& precision);

struct CudaBenchResult {
  double forward_seconds = 0, training_seconds = 0, dense_forward_seconds = 0, dense_training_seconds = 0;
};

// Times the plan + forward and plan + forward + backward (median of `steps` after a warm-up, CUDA events)
// of the routing in `plan` (host view; its slots are uploaded and the plan is rebuilt on the GPU every
// step), with random weights, and the six dense GEMMs of the same FLOPs (cuBLAS, same precision).
CudaBenchResult cuda_sparse_bench(const PlanView& plan, const double* sorted_weight, std::size_t d, std::size_t f,
                                  const std::string& precision, std::size_t steps, std::uint64_t seed);

}  // namespace moe::kernels
