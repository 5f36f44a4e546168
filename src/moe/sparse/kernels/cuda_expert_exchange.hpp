#pragma once
// The expert-parallel exchange of the sparse layer (expert_exchange.hpp) with the tokens on the GPU:
// this rank's X goes to the GPU once; the gather of the kept slots' inputs, the all-to-all to
// the experts' owners (a DeviceCommunicator: NCCL, or the one-GPU loopback), the reorder into expert-major
// order, the local experts (CudaRoutedSession on device data), the way back and the weighted combine all
// run there; the backward likewise for dY and dX. What comes back to the host: Y and dX (d x T, the layer
// adds the residual in double), the slot-weight gradients and the local experts' weight gradients (the
// optimiser runs on the host). Host interface free of Armadillo and CUDA types; float on the wire, the
// experts in the session's precision (bf16 | float | tf32).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "moe/parallel/device_communicator.hpp"
#include "moe/backend/ffn_activation.hpp"

namespace moe::kernels {

// One rank's side of one exchange. P = comm.size() ranks; A kept assignments here, n columns for the
// local experts from every rank.
struct CudaExchangeProblem {
  std::size_t tokens = 0, k = 0, d = 0, f = 0, local_experts = 0;
  FfnActivation activation = FfnActivation::relu;
  std::vector<std::int32_t> sorted_token;   // A: the kept slots' tokens in this rank's plan's sorted order
  std::vector<std::int32_t> slot_position;  // T k: a slot's place in that order, -1 empty or dropped
  std::vector<float> slot_weight;           // T k
  std::vector<std::size_t> send_cols, recv_cols;  // P each: columns to / from each rank
  std::vector<std::int32_t> order;          // n: expert-major column i <- column order[i] of what arrived
  std::vector<std::int32_t> expert_of;      // n: the local expert of expert-major column i (ascending)
  std::vector<float> X;                     // d x T
  std::vector<float> W1, b1, W2, b2;        // the local experts', back to back
};

struct CudaExchangeGrads {
  std::vector<float> dX;                 // d x T: through the experts only (no residual)
  std::vector<float> dweight;            // T k: dL/d slot_weight, 0 for empty and dropped slots
  std::vector<float> dW1, db1, dW2, db2;  // the local experts' gradients of this step (from every rank's tokens)
};

class CudaExchangeSession {
 public:
  CudaExchangeSession(const std::string& precision, DeviceCommunicator& comm);  // throws without CUDA / a GPU
  ~CudaExchangeSession();
  CudaExchangeSession(CudaExchangeSession&&) noexcept;
  CudaExchangeSession& operator=(CudaExchangeSession&&) noexcept;
  // d x T: sum over each token's kept slots of weight x expert output (no residual). Collective.
  std::vector<float> forward(const CudaExchangeProblem& p);
  // dY: d x T. Collective; after forward.
  CudaExchangeGrads backward(const std::vector<float>& dY);
  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace moe::kernels
