#pragma once
// The routed experts' part of the sparse MoE layer for one RoutingPlan, by one of three backends:
//   reference  per expert, an Armadillo gather and FfnExperts::forward/backward (the oracle)
//   fast       backend/cpu_sparse_ffn (row-blocked BLAS GEMMs under OpenMP, fused activation)
//   cuda       backend/cuda_sparse_ffn: the slots, X and the weights go to the GPU (float, bf16 or tf32),
//              the plan is rebuilt there from the kept slots, and the gradients come back (--device cuda)
// The CPU backends keep the same state, expert-sorted columns (kernels::SparseFfnWorkspace), and agree up
// to rounding (tests/sparse/test_fast_cpu.cpp; the GPU: test_cuda_backend.cpp). X, Y, dY, dX: d x T;
// residual included.
#include <armadillo>
#include <memory>
#include <string>

#include "moe/parallel/device_communicator.hpp"
#include "moe/sparse/ffn_experts.hpp"
#include "moe/backend/cpu_sparse_ffn.hpp"
#include "moe/backend/cuda_sparse_ffn.hpp"
#include "moe/backend/routing_plan.hpp"

namespace moe {

enum class RoutedKernel { reference, fast };
RoutedKernel parse_routed_kernel(const std::string& name);  // "reference" | "fast"; throws otherwise

// Where and how: the CPU kernel, or the GPU with its element type.
struct RoutedBackend {
  RoutedBackend(RoutedKernel kernel = RoutedKernel::fast) : kernel(kernel) {}  // NOLINT: a kernel is a backend
  RoutedKernel kernel;
  bool cuda = false;
  std::string cuda_precision = "float";  // float | bf16 | tf32
  // Expert parallelism with cuda: the all-to-all between GPUs (NCCL), so the tokens stay on the GPU
  // (expert_exchange.hpp); null: the host Communicator moves them and each rank's GPU runs its experts.
  DeviceCommunicator* device_exchange = nullptr;
};

// What forward keeps for backward: the CPU kernels' expert-sorted columns, or the GPU session.
struct RoutedFfnState : kernels::SparseFfnWorkspace<double> {
  std::unique_ptr<kernels::CudaRoutedSession> cuda;
};

// The GPU paths' conversions: double host arrays to the float the kernels take, and back; the experts'
// float gradients added to their double ones.
std::vector<float> to_float(const double* p, std::size_t n);
arma::mat from_float(const std::vector<float>& v, arma::uword rows, arma::uword cols);
void add_float_grads(FfnExperts& experts, const std::vector<float>& dW1, const std::vector<float>& db1,
                     const std::vector<float>& dW2, const std::vector<float>& db2);

// The plan's arrays as the kernels read them (valid while the plan lives).
kernels::PlanView plan_view(const RoutingPlan& plan);

// residual = false: Y holds the weighted expert outputs alone (and backward's dX the gradient through the
// experts alone), as the expert-parallel exchange (expert_exchange.hpp) needs for the tokens it receives.
arma::mat routed_ffn_forward(const RoutedBackend& backend, const RoutingPlan& plan, const FfnExperts& experts,
                             const arma::mat& X, RoutedFfnState& state, bool residual = true);

// Adds the experts' parameter gradients; writes dweight (T k, dL/d slot_weight; 0 for empty and dropped
// slots) and returns dL/dX through the experts and the residual.
arma::mat routed_ffn_backward(const RoutedBackend& backend, const RoutingPlan& plan, FfnExperts& experts,
                              RoutedFfnState& state, const arma::mat& dY, arma::vec& dweight, bool residual = true);

}  // namespace moe
