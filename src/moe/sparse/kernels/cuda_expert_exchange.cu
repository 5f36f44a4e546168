// The expert-parallel exchange on the GPU (interface: cuda_expert_exchange.hpp). Buffers are float,
// column-major, one column per token or per assignment:
//   X (d x T) -> inputs (d x A, this plan's sorted order) -> [alltoallv] -> arrived (d x n, rank-major)
//   -> expert-major (d x n) -> local experts (CudaRoutedSession, k = 1, weight 1) -> outputs (d x n)
//   -> back to rank-major -> [alltoallv] -> out (d x A) -> Y (d x T) = sum of weighted kept slots
// and the backward the same way for dY -> dout -> the experts' backward -> dinputs -> dX.
#include <cuda_runtime.h>

#include "moe/backend/cuda_device_array.cuh"
#include "moe/sparse/kernels/cuda_expert_exchange.hpp"
#include "moe/backend/cuda_sparse_ffn.hpp"

namespace moe::kernels {

namespace {

// to[:, i] = from[:, index[i]], one block per column i.
__global__ void gather_by(const float* from, const int* index, int d, float* to) {
  const float* src = from + std::size_t(index[blockIdx.x]) * d;
  float* dst = to + std::size_t(blockIdx.x) * d;
  for (int r = threadIdx.x; r < d; r += blockDim.x) dst[r] = src[r];
}

// to[:, index[i]] = from[:, i], one block per column i.
__global__ void scatter_by(const float* from, const int* index, int d, float* to) {
  const float* src = from + std::size_t(blockIdx.x) * d;
  float* dst = to + std::size_t(index[blockIdx.x]) * d;
  for (int r = threadIdx.x; r < d; r += blockDim.x) dst[r] = src[r];
}

// Y[:, t] = sum over t's kept slots, in slot order, w_s out[:, position_s]; one block per token.
__global__ void combine_slots(const float* out, const int* slot_position, const float* slot_weight, int d, int k,
                              float* Y) {
  const int t = blockIdx.x;
  for (int r = threadIdx.x; r < d; r += blockDim.x) {
    float y = 0.0f;
    for (int s = 0; s < k; ++s) {
      const int pos = slot_position[t * k + s];
      if (pos >= 0) y += slot_weight[t * k + s] * out[std::size_t(pos) * d + r];
    }
    Y[std::size_t(t) * d + r] = y;
  }
}

// Per slot s of token t (one block of 128 threads): dout[:, pos] = w_s dY[:, t] and
// dweight[s] = dY[:, t] . out[:, pos]; dweight 0 where the slot is empty or dropped.
__global__ void slot_gradients(const float* dY, const float* out, const int* slot_position, const float* slot_weight,
                               int d, int k, float* dout, float* dweight) {
  const int s = blockIdx.x, t = s / k, pos = slot_position[s];
  __shared__ float partial[128];
  float dot = 0.0f;
  if (pos >= 0)
    for (int r = threadIdx.x; r < d; r += blockDim.x) {
      const float g = dY[std::size_t(t) * d + r];
      dout[std::size_t(pos) * d + r] = slot_weight[s] * g;
      dot += g * out[std::size_t(pos) * d + r];
    }
  partial[threadIdx.x] = dot;
  __syncthreads();
  for (int step = blockDim.x / 2; step > 0; step /= 2) {
    if (int(threadIdx.x) < step) partial[threadIdx.x] += partial[threadIdx.x + step];
    __syncthreads();
  }
  if (threadIdx.x == 0) dweight[s] = partial[0];
}

std::vector<std::size_t> times(const std::vector<std::size_t>& cols, std::size_t d) {
  std::vector<std::size_t> out(cols);
  for (std::size_t& c : out) c *= d;
  return out;
}

std::size_t total(const std::vector<std::size_t>& cols) {
  std::size_t n = 0;
  for (const std::size_t c : cols) n += c;
  return n;
}

}  // namespace

struct CudaExchangeSession::Impl {
  DeviceCommunicator& comm;
  CudaRoutedSession experts;
  CudaFfnProblem local;  // the local experts' problem: n columns, k = 1, weight 1
  std::size_t T = 0, k = 0, d = 0, A = 0, n = 0;
  std::vector<std::size_t> send_elems, recv_elems;
  DeviceArray<float> X, inputs, arrived, sorted, back, out, Y, slot_weight, unit_weight, dY, dout, dweight, dinputs;
  DeviceArray<int> sorted_token, slot_position, order;

  Impl(const std::string& precision, DeviceCommunicator& c) : comm(c), experts(precision) {}

  void exchange(const float* from, const std::vector<std::size_t>& out_elems, DeviceArray<float>& to,
                const std::vector<std::size_t>& in_elems) {
    to.resize(total(in_elems));
    comm.alltoallv(from, out_elems, to.p, in_elems);
  }

  std::vector<float> forward(const CudaExchangeProblem& p) {
    const std::size_t P = std::size_t(comm.size());
    require(p.send_cols.size() == P && p.recv_cols.size() == P, "GPU exchange: one column count per rank");
    T = p.tokens, k = p.k, d = p.d, A = p.sorted_token.size(), n = p.order.size();
    require(total(p.send_cols) == A && total(p.recv_cols) == n && p.expert_of.size() == n,
            "GPU exchange: the column counts do not match the plan");
    require(p.slot_position.size() == T * k && p.slot_weight.size() == T * k && p.X.size() == d * T,
            "GPU exchange: expected T k slots and a d x T X");
    send_elems = times(p.send_cols, d), recv_elems = times(p.recv_cols, d);
    X.upload(p.X.data(), p.X.size());
    sorted_token.upload(p.sorted_token.data(), A);
    slot_position.upload(p.slot_position.data(), T * k);
    slot_weight.upload(p.slot_weight.data(), T * k);
    order.upload(p.order.data(), n);
    inputs.resize(d * A);
    if (A > 0) gather_by<<<unsigned(A), 128>>>(X.p, sorted_token.p, int(d), inputs.p);
    MOE_CUDA(cudaGetLastError());
    exchange(inputs.p, send_elems, arrived, recv_elems);
    sorted.resize(d * n);
    if (n > 0) gather_by<<<unsigned(n), 128>>>(arrived.p, order.p, int(d), sorted.p);
    local.tokens = n, local.experts = p.local_experts, local.k = 1, local.d = d, local.f = p.f;
    local.activation = p.activation, local.residual = false, local.capacity = 0;
    local.slot_expert = p.expert_of;
    local.slot_weight.assign(n, 1.0f);
    local.W1 = p.W1, local.b1 = p.b1, local.W2 = p.W2, local.b2 = p.b2;
    const float* outputs = experts.forward_on_device(local, sorted.p);
    back.resize(d * n);
    if (n > 0) scatter_by<<<unsigned(n), 128>>>(outputs, order.p, int(d), back.p);
    MOE_CUDA(cudaGetLastError());
    exchange(back.p, recv_elems, out, send_elems);
    Y.resize(d * T);
    if (T > 0) combine_slots<<<unsigned(T), 128>>>(out.p, slot_position.p, slot_weight.p, int(d), int(k), Y.p);
    MOE_CUDA(cudaGetLastError());
    return Y.download(d * T);
  }

  CudaExchangeGrads backward(const std::vector<float>& dy) {
    require(dy.size() == d * T, "GPU exchange: dY must be d x T");
    dY.upload(dy.data(), dy.size());
    dout.resize(d * A), dweight.resize(T * k);
    if (T * k > 0)
      slot_gradients<<<unsigned(T * k), 128>>>(dY.p, out.p, slot_position.p, slot_weight.p, int(d), int(k), dout.p,
                                               dweight.p);
    MOE_CUDA(cudaGetLastError());
    exchange(dout.p, send_elems, arrived, recv_elems);
    sorted.resize(d * n);
    if (n > 0) gather_by<<<unsigned(n), 128>>>(arrived.p, order.p, int(d), sorted.p);
    MOE_CUDA(cudaGetLastError());
    const float* dsorted = nullptr;
    CudaFfnResult r = experts.backward_on_device(sorted.p, &dsorted);
    back.resize(d * n);
    if (n > 0) scatter_by<<<unsigned(n), 128>>>(dsorted, order.p, int(d), back.p);
    MOE_CUDA(cudaGetLastError());
    exchange(back.p, recv_elems, dinputs, send_elems);
    // dX[:, t] = sum over t's kept slots of dinputs[:, position]: the combine with weight 1.
    const std::vector<float> ones(T * k, 1.0f);
    unit_weight.upload(ones.data(), ones.size());
    Y.resize(d * T);
    if (T > 0) combine_slots<<<unsigned(T), 128>>>(dinputs.p, slot_position.p, unit_weight.p, int(d), int(k), Y.p);
    MOE_CUDA(cudaGetLastError());
    CudaExchangeGrads g;
    g.dX = Y.download(d * T);
    g.dweight = dweight.download(T * k);
    g.dW1 = std::move(r.dW1), g.db1 = std::move(r.db1), g.dW2 = std::move(r.dW2), g.db2 = std::move(r.db2);
    return g;
  }
};

CudaExchangeSession::CudaExchangeSession(const std::string& precision, DeviceCommunicator& comm)
    : impl_(std::make_unique<Impl>(precision, comm)) {}
CudaExchangeSession::~CudaExchangeSession() = default;
CudaExchangeSession::CudaExchangeSession(CudaExchangeSession&&) noexcept = default;
CudaExchangeSession& CudaExchangeSession::operator=(CudaExchangeSession&&) noexcept = default;
std::vector<float> CudaExchangeSession::forward(const CudaExchangeProblem& p) { return impl_->forward(p); }
CudaExchangeGrads CudaExchangeSession::backward(const std::vector<float>& dY) { return impl_->backward(dY); }

}  // namespace moe::kernels
