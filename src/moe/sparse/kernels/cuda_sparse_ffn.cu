// The CUDA backend of the routed sparse MoE layer (interface: cuda_sparse_ffn.hpp). Element type E_ is
// __nv_bfloat16 (float accumulation) or float; combine sums, the gate gradient and the weight gradients
// are float. Layouts as kernels/sparse_ffn_views.hpp: column-major, one token per column.
//
// Per step: plan on the GPU (counts per (expert, chunk of 256 slots) -> exclusive prefix sum (CUB) ->
// scatter with a stable rank inside the chunk, so the sorted order is the CPU plan's: by expert, then slot
// index; a capacity pass ranks slots in priority order first, as make_plan does), one copy of the E + 1
// offsets to the host (the GEMM shapes), gather, grouped GEMMs (cuBLAS), fused bias + activation,
// combine per token in slot order (no atomics); backward likewise.
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cub/device/device_scan.cuh>
#include <string>
#include <vector>

#include "moe/core/error.hpp"
#include "moe/sparse/kernels/cuda_sparse_ffn.hpp"

namespace moe::kernels {

namespace {

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) fail(std::string("CUDA: ") + what + ": " + cudaGetErrorString(status));
}
void check(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS) fail(std::string("cuBLAS: ") + what + ": status " + std::to_string(int(status)));
}
#define MOE_CUDA(call) check((call), #call)

constexpr int chunk = 256;  // slots per block in the plan kernels

// --- element conversions -------------------------------------------------------------------------------
__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }
template <class E_>
__device__ __forceinline__ E_ from_float(float x);
template <>
__device__ __forceinline__ float from_float<float>(float x) { return x; }
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float x) { return __float2bfloat16(x); }

__device__ __forceinline__ float act_fn(int relu, float x) {
  return relu ? fmaxf(x, 0.0f) : x * 0.5f * erfcf(-x * 0.70710678118654752f);
}
__device__ __forceinline__ float act_grad(int relu, float x) {
  return relu ? (x > 0.0f ? 1.0f : 0.0f)
              : 0.5f * erfcf(-x * 0.70710678118654752f) + x * 0.39894228040143267f * __expf(-0.5f * x * x);
}

// --- plan ------------------------------------------------------------------------------------------------
// Order o of a slot: token-major o = slot (by_priority 0), or priority order o = s T + t (by_priority 1).
__device__ __forceinline__ int slot_at(int o, int by_priority, int T, int k) {
  return by_priority ? (o % T) * k + o / T : o;
}

// counts[e * chunks + c] = slots of chunk c (in the given order) that go to expert e (and are kept).
__global__ void plan_count(const int* slot_expert, const unsigned char* kept, int slots, int T, int k,
                           int by_priority, int experts, int chunks, int* counts) {
  extern __shared__ int hist[];
  for (int e = threadIdx.x; e < experts; e += blockDim.x) hist[e] = 0;
  __syncthreads();
  const int o = blockIdx.x * chunk + threadIdx.x;
  if (o < slots) {
    const int s = slot_at(o, by_priority, T, k), e = slot_expert[s];
    if (e >= 0 && (!kept || kept[s])) atomicAdd(&hist[e], 1);
  }
  __syncthreads();
  for (int e = threadIdx.x; e < experts; e += blockDim.x) counts[e * chunks + blockIdx.x] = hist[e];
}

// Rank of each slot among the earlier slots of its chunk with the same expert: stable inside the chunk.
__device__ int rank_in_chunk(const int* experts_here, int e) {
  int r = 0;
  for (int j = 0; j < int(threadIdx.x); ++j) r += experts_here[j] == e;
  return r;
}

// Capacity pass (priority order): kept[s] = the slot's rank among its expert's slots < capacity.
__global__ void plan_keep(const int* slot_expert, int slots, int T, int k, int chunks, const int* starts,
                          int capacity, unsigned char* kept) {
  __shared__ int here[chunk];
  const int o = blockIdx.x * chunk + threadIdx.x;
  const int s = o < slots ? slot_at(o, 1, T, k) : -1, e = o < slots ? slot_expert[s] : -1;
  here[threadIdx.x] = e;
  __syncthreads();
  if (e < 0) {
    if (s >= 0) kept[s] = 0;
    return;
  }
  const int rank = starts[e * chunks + blockIdx.x] - starts[e * chunks] + rank_in_chunk(here, e);
  kept[s] = rank < capacity;
}

// Token-major scatter of the kept slots into expert-sorted order.
__global__ void plan_scatter(const int* slot_expert, const float* slot_weight, const unsigned char* kept, int slots,
                             int k, int chunks, const int* starts, int* slot_position, int* sorted_token,
                             int* sorted_slot, float* sorted_weight) {
  __shared__ int here[chunk];
  const int s = blockIdx.x * chunk + threadIdx.x;
  int e = s < slots ? slot_expert[s] : -1;
  if (e >= 0 && kept && !kept[s]) e = -1;
  here[threadIdx.x] = e;
  __syncthreads();
  if (s >= slots) return;
  if (e < 0) {
    slot_position[s] = -1;
    return;
  }
  const int pos = starts[e * chunks + blockIdx.x] + rank_in_chunk(here, e);
  slot_position[s] = pos;
  sorted_token[pos] = s / k;
  sorted_slot[pos] = s;
  sorted_weight[pos] = slot_weight[s];
}

__global__ void plan_offsets(const int* starts, int experts, int chunks, int total, long long* offsets) {
  const int e = blockIdx.x * blockDim.x + threadIdx.x;
  if (e < experts) offsets[e] = starts[e * chunks];
  if (e == experts) offsets[e] = total;
}

// --- element-wise stages --------------------------------------------------------------------------------
// inputs[:, i] = X[:, sorted_token[i]], one block per column.
template <class E_>
__global__ void gather_columns(const E_* X, const int* sorted_token, int d, E_* inputs) {
  const int i = blockIdx.x;
  const E_* src = X + size_t(sorted_token[i]) * d;
  E_* dst = inputs + size_t(i) * d;
  for (int r = threadIdx.x; r < d; r += blockDim.x) dst[r] = src[r];
}

// pre += b1 of the column's expert (float, kept for the backward), act = act(pre) in E_ (the next GEMM's
// input). Grid (A columns, ceil(f / 256) row blocks): no division per element.
template <class E_>
__global__ void bias_activate(float* pre, E_* act, const E_* b1, const int* sorted_expert, int f, int relu) {
  const int col = blockIdx.x, r = blockIdx.y * blockDim.x + threadIdx.x;
  if (r >= f) return;
  const std::size_t i = std::size_t(col) * f + r;
  const float x = pre[i] + to_float(b1[std::size_t(sorted_expert[col]) * f + r]);
  pre[i] = x;
  act[i] = from_float<E_>(act_fn(relu, x));
}

// Y[:, t] = X[:, t] + sum over t's kept slots, in order, w (out[:, pos] + b2_e); one block per token.
template <class E_>
__global__ void combine(const E_* X, const E_* out, const E_* b2, const int* slot_position, const int* slot_expert,
                        const float* sorted_weight, int d, int k, float* Y) {
  const int t = blockIdx.x;
  for (int r = threadIdx.x; r < d; r += blockDim.x) {
    float y = to_float(X[size_t(t) * d + r]);
    for (int s = 0; s < k; ++s) {
      const int pos = slot_position[t * k + s];
      if (pos < 0) continue;
      const int e = slot_expert[t * k + s];
      y += sorted_weight[pos] * (to_float(out[size_t(pos) * d + r]) + to_float(b2[size_t(e) * d + r]));
    }
    Y[size_t(t) * d + r] = y;
  }
}

// dout[:, i] = w_i dY[:, token_i]; dweight[sorted_slot[i]] = dY[:, token_i] . (out[:, i] + b2_e). One
// block of 128 threads per column.
template <class E_>
__global__ void backward_combine(const float* dY, const E_* out, const E_* b2, const int* sorted_token,
                                 const int* sorted_slot, const int* sorted_expert, const float* sorted_weight, int d,
                                 E_* dout, float* dweight) {
  const int i = blockIdx.x, t = sorted_token[i], e = sorted_expert[i];
  const float w = sorted_weight[i];
  float dot = 0.0f;
  for (int r = threadIdx.x; r < d; r += blockDim.x) {
    const float g = dY[size_t(t) * d + r];
    dout[size_t(i) * d + r] = from_float<E_>(w * g);
    dot += g * (to_float(out[size_t(i) * d + r]) + to_float(b2[size_t(e) * d + r]));
  }
  __shared__ float partial[128];
  partial[threadIdx.x] = dot;
  __syncthreads();
  for (int step = blockDim.x / 2; step > 0; step /= 2) {
    if (int(threadIdx.x) < step) partial[threadIdx.x] += partial[threadIdx.x + step];
    __syncthreads();
  }
  if (threadIdx.x == 0) dweight[sorted_slot[i]] = partial[0];
}

// dh = dA .* act'(pre), from the float dA and pre, rounded once to E_. Grid as bias_activate.
template <class E_>
__global__ void activation_backward(const float* dA, const float* pre, int f, int relu, E_* dh) {
  const std::size_t i = std::size_t(blockIdx.x) * f + blockIdx.y * blockDim.x + threadIdx.x;
  if (int(blockIdx.y * blockDim.x + threadIdx.x) >= f) return;
  dh[i] = from_float<E_>(dA[i] * act_grad(relu, pre[i]));
}

// db[e * rows + r] += sum over expert e's columns of M[r, col]; grid (E, ceil(rows / 256)).
template <class E_>
__global__ void bias_grad(const E_* M, const long long* offsets, int rows, float* db) {
  const int e = blockIdx.x, r = blockIdx.y * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  float sum = 0.0f;
  for (long long c = offsets[e]; c < offsets[e + 1]; ++c) sum += to_float(M[size_t(c) * rows + r]);
  db[size_t(e) * rows + r] += sum;
}

// dX[:, t] = dY[:, t] + sum over t's kept slots, in order, dinputs[:, pos]; one block per token.
template <class E_>
__global__ void scatter_back(const float* dY, const E_* dinputs, const int* slot_position, int d, int k, float* dX) {
  const int t = blockIdx.x;
  for (int r = threadIdx.x; r < d; r += blockDim.x) {
    float g = dY[size_t(t) * d + r];
    for (int s = 0; s < k; ++s) {
      const int pos = slot_position[t * k + s];
      if (pos >= 0) g += to_float(dinputs[size_t(pos) * d + r]);
    }
    dX[size_t(t) * d + r] = g;
  }
}

__global__ void expert_of_columns(const long long* offsets, int experts, int* sorted_expert) {
  const int e = blockIdx.x;
  for (long long c = offsets[e] + threadIdx.x; c < offsets[e + 1]; c += blockDim.x) sorted_expert[c] = e;
}

template <class T>
__global__ void fill_value(T* p, long long n, float value) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
    p[i] = from_float<T>(value);
}

template <class E_>
__global__ void fill_random(E_* p, long long n, float scale, unsigned long long seed) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
    unsigned long long x = seed * 0x9E3779B97F4A7C15ull + (unsigned long long)i * 0xBF58476D1CE4E5B9ull;
    x ^= x >> 31, x *= 0x94D049BB133111EBull, x ^= x >> 29;
    p[i] = from_float<E_>(scale * (float(x >> 40) * (1.0f / 16777216.0f) * 2.0f - 1.0f));
  }
}

int grid_for(long long n) { return int(std::min<long long>((n + 255) / 256, 132LL * 16)); }

// --- device memory ---------------------------------------------------------------------------------------
template <class T>
struct DeviceArray {
  T* p = nullptr;
  std::size_t n = 0;
  DeviceArray() = default;
  explicit DeviceArray(std::size_t count) { resize(count); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  ~DeviceArray() {
    if (p) cudaFree(p);
  }
  void resize(std::size_t count) {
    if (count <= n && p) return;
    if (p) cudaFree(p);
    p = nullptr;
    MOE_CUDA(cudaMalloc(&p, std::max<std::size_t>(count, 1) * sizeof(T)));
    n = count;
  }
  void upload(const T* host, std::size_t count) {
    resize(count);
    if (count) MOE_CUDA(cudaMemcpy(p, host, count * sizeof(T), cudaMemcpyHostToDevice));
  }
  std::vector<T> download(std::size_t count) const {
    std::vector<T> h(count);
    if (count) MOE_CUDA(cudaMemcpy(h.data(), p, count * sizeof(T), cudaMemcpyDeviceToHost));
    return h;
  }
};

// --- GEMMs -----------------------------------------------------------------------------------------------
// One GEMM per non-empty expert, C_e = alpha op(A_e) op(B_e) + beta C_e, all of one shape rule, issued as
// one cuBLAS grouped GEMM (every expert its own group, since n_e differs; MOE_CUDA_GEMM=grouped), or
// as cublasGemmEx calls spread over four streams (the default; see Gpu()).
struct GemmBatch {
  bool ta = false, tb = false;
  std::vector<int> m, n, k, lda, ldb, ldc;
  std::vector<const void*> A, B;
  std::vector<void*> C;
  void add(int m_, int n_, int k_, const void* a, int lda_, const void* b, int ldb_, void* c, int ldc_) {
    m.push_back(m_), n.push_back(n_), k.push_back(k_), lda.push_back(lda_), ldb.push_back(ldb_), ldc.push_back(ldc_);
    A.push_back(a), B.push_back(b), C.push_back(c);
  }
};

struct Gpu {
  cublasHandle_t handle = nullptr;
  cudaStream_t side[4] = {};
  cudaEvent_t fork = nullptr, join[4] = {};
  bool use_streams = false;
  DeviceArray<const void*> ptrs;  // device pointer arrays of the grouped GEMMs
  Gpu() {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) fail("no CUDA device is visible (--device cuda)");
    MOE_CUDA(cublasCreate(&handle));
    for (auto& s : side) MOE_CUDA(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    MOE_CUDA(cudaEventCreateWithFlags(&fork, cudaEventDisableTiming));
    for (auto& e : join) MOE_CUDA(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
    // Per-expert cublasGemmEx over four streams by default: measured faster than the grouped call on the
    // H200 (NOTES.md); MOE_CUDA_GEMM=grouped selects cublasGemmGroupedBatchedEx where cuBLAS supports it.
    const char* mode = std::getenv("MOE_CUDA_GEMM");
    use_streams = !(mode && std::string(mode) == "grouped");
  }
  ~Gpu() {
    for (auto& s : side) cudaStreamDestroy(s);
    cudaEventDestroy(fork);
    for (auto& e : join) cudaEventDestroy(e);
    cublasDestroy(handle);
  }

  void run(const GemmBatch& b, cudaDataType_t ab_type, cudaDataType_t c_type, cublasComputeType_t compute, float beta) {
    const int count = int(b.m.size());
    if (count == 0) return;
    const float alpha = 1.0f;
    const cublasOperation_t ta = b.ta ? CUBLAS_OP_T : CUBLAS_OP_N, tb = b.tb ? CUBLAS_OP_T : CUBLAS_OP_N;
    if (use_streams || !grouped(b, ta, tb, alpha, beta, ab_type, c_type, compute)) {
      MOE_CUDA(cudaEventRecord(fork, 0));
      for (auto& s : side) MOE_CUDA(cudaStreamWaitEvent(s, fork, 0));
      for (int g = 0; g < count; ++g) {
        MOE_CUDA(cublasSetStream(handle, side[g % 4]));
        MOE_CUDA(cublasGemmEx(handle, ta, tb, b.m[g], b.n[g], b.k[g], &alpha, b.A[g], ab_type, b.lda[g], b.B[g],
                              ab_type, b.ldb[g], &beta, b.C[g], c_type, b.ldc[g], compute, CUBLAS_GEMM_DEFAULT));
      }
      MOE_CUDA(cublasSetStream(handle, 0));
      for (int s = 0; s < 4; ++s) {
        MOE_CUDA(cudaEventRecord(join[s], side[s]));
        MOE_CUDA(cudaStreamWaitEvent(0, join[s], 0));
      }
      return;
    }
  }

  // One cuBLAS grouped GEMM; false when cuBLAS does not support the type combination (then run() issues
  // the GEMMs one by one; bf16 inputs with float outputs, the weight gradients, are such a case).
  bool grouped(const GemmBatch& b, cublasOperation_t ta, cublasOperation_t tb, float alpha, float beta,
               cudaDataType_t ab_type, cudaDataType_t c_type, cublasComputeType_t compute) {
    const int count = int(b.m.size());
    std::vector<cublasOperation_t> tas(count, ta), tbs(count, tb);
    std::vector<float> alphas(count, alpha), betas(count, beta);
    std::vector<int> sizes(count, 1);
    std::vector<const void*> host(3 * std::size_t(count));
    for (int g = 0; g < count; ++g) host[g] = b.A[g], host[count + g] = b.B[g], host[2 * count + g] = b.C[g];
    ptrs.resize(host.size());
    // The next batch's pointers are copied into the same array behind these GEMMs on the same stream.
    MOE_CUDA(cudaMemcpyAsync(ptrs.p, host.data(), host.size() * sizeof(void*), cudaMemcpyHostToDevice, 0));
    const cublasStatus_t status = cublasGemmGroupedBatchedEx(
        handle, tas.data(), tbs.data(), b.m.data(), b.n.data(), b.k.data(), alphas.data(), ptrs.p, ab_type,
        b.lda.data(), ptrs.p + count, ab_type, b.ldb.data(), betas.data(), (void* const*)(ptrs.p + 2 * count),
        c_type, b.ldc.data(), count, sizes.data(), compute);
    if (status == CUBLAS_STATUS_NOT_SUPPORTED) return false;
    check(status, "cublasGemmGroupedBatchedEx");
    return true;
  }
};

Gpu& gpu() {
  static Gpu g;
  return g;
}

struct Precision {
  cudaDataType_t ab;
  cublasComputeType_t compute;
};

// --- the routed FFN on the GPU ---------------------------------------------------------------------------
template <class E_>
struct Routed {
  int T = 0, E = 0, k = 0, d = 0, f = 0, capacity = 0;
  int relu = 1;
  Precision precision{};
  int chunks = 0, A = 0;
  DeviceArray<int> slot_expert, counts, starts, slot_position, sorted_token, sorted_slot, sorted_expert;
  DeviceArray<unsigned char> kept;
  DeviceArray<float> slot_weight, sorted_weight, dweight, Y, dX, dY, dW1, db1, dW2, db2;
  DeviceArray<float> pre, dA;  // f x A in float: the first GEMM's output and W2' dout, before the activation
  DeviceArray<long long> offsets;
  DeviceArray<E_> X, W1, b1, W2, b2, inputs, act, out, dout, dh, dinputs;
  DeviceArray<unsigned char> scan_temp;
  std::vector<long long> host_offsets;

  void scan(const int* in, int* outp, int n) {
    std::size_t bytes = 0;
    MOE_CUDA(cub::DeviceScan::ExclusiveSum(nullptr, bytes, in, outp, n));
    scan_temp.resize(bytes);
    MOE_CUDA(cub::DeviceScan::ExclusiveSum(scan_temp.p, bytes, in, outp, n));
  }

  // The plan from slot_expert / slot_weight (device), then the host copy of the offsets.
  void plan() {
    const int slots = T * k;
    chunks = std::max(1, (slots + chunk - 1) / chunk);
    counts.resize(std::size_t(E) * chunks);
    starts.resize(std::size_t(E) * chunks);
    slot_position.resize(std::max(slots, 1));
    const unsigned char* keep = nullptr;
    if (capacity > 0) {
      kept.resize(std::max(slots, 1));
      plan_count<<<chunks, chunk, E * sizeof(int)>>>(slot_expert.p, nullptr, slots, T, k, 1, E, chunks, counts.p);
      scan(counts.p, starts.p, E * chunks);
      plan_keep<<<chunks, chunk>>>(slot_expert.p, slots, T, k, chunks, starts.p, capacity, kept.p);
      keep = kept.p;
    }
    plan_count<<<chunks, chunk, E * sizeof(int)>>>(slot_expert.p, keep, slots, T, k, 0, E, chunks, counts.p);
    scan(counts.p, starts.p, E * chunks);
    offsets.resize(E + 1);
    // The total is the last start plus the last count; read both with the offsets.
    plan_offsets<<<(E + 1 + 255) / 256, 256>>>(starts.p, E, chunks, 0, offsets.p);
    host_offsets.assign(E + 1, 0);
    int last_start = 0, last_count = 0;
    MOE_CUDA(cudaMemcpy(host_offsets.data(), offsets.p, E * sizeof(long long), cudaMemcpyDeviceToHost));
    MOE_CUDA(cudaMemcpy(&last_start, starts.p + std::size_t(E) * chunks - 1, sizeof(int), cudaMemcpyDeviceToHost));
    MOE_CUDA(cudaMemcpy(&last_count, counts.p + std::size_t(E) * chunks - 1, sizeof(int), cudaMemcpyDeviceToHost));
    A = last_start + last_count;
    host_offsets[E] = A;
    MOE_CUDA(cudaMemcpy(offsets.p + E, &host_offsets[E], sizeof(long long), cudaMemcpyHostToDevice));
    sorted_token.resize(std::max(A, 1)), sorted_slot.resize(std::max(A, 1)), sorted_weight.resize(std::max(A, 1));
    sorted_expert.resize(std::max(A, 1));
    plan_scatter<<<chunks, chunk>>>(slot_expert.p, slot_weight.p, keep, slots, k, chunks, starts.p, slot_position.p,
                                    sorted_token.p, sorted_slot.p, sorted_weight.p);
    if (A > 0) expert_of_columns<<<E, 256>>>(offsets.p, E, sorted_expert.p);
    MOE_CUDA(cudaGetLastError());
  }

  int count(int e) const { return int(host_offsets[e + 1] - host_offsets[e]); }

  void forward() {
    const std::size_t Au = std::max(A, 1);
    inputs.resize(std::size_t(d) * Au), pre.resize(std::size_t(f) * Au), act.resize(std::size_t(f) * Au);
    out.resize(std::size_t(d) * Au);
    Y.resize(std::size_t(d) * T);
    if (A > 0) gather_columns<<<A, 128>>>(X.p, sorted_token.p, d, inputs.p);
    GemmBatch g1, g2;
    for (int e = 0; e < E; ++e) {
      const int n = count(e);
      if (n == 0) continue;
      const long long c0 = host_offsets[e];
      g1.add(f, n, d, W1.p + std::size_t(e) * f * d, f, inputs.p + c0 * d, d, pre.p + c0 * f, f);
      g2.add(d, n, f, W2.p + std::size_t(e) * d * f, d, act.p + c0 * f, f, out.p + c0 * d, d);
    }
    gpu().run(g1, precision.ab, CUDA_R_32F, precision.compute, 0.0f);
    if (A > 0) bias_activate<<<dim3(A, (f + 255) / 256), 256>>>(pre.p, act.p, b1.p, sorted_expert.p, f, relu);
    gpu().run(g2, precision.ab, precision.ab, precision.compute, 0.0f);
    if (T > 0) combine<<<T, 128>>>(X.p, out.p, b2.p, slot_position.p, slot_expert.p, sorted_weight.p, d, k, Y.p);
    MOE_CUDA(cudaGetLastError());
  }

  void backward() {
    const std::size_t Au = std::max(A, 1);
    dout.resize(std::size_t(d) * Au), dh.resize(std::size_t(f) * Au), dinputs.resize(std::size_t(d) * Au);
    dA.resize(std::size_t(f) * Au);
    dX.resize(std::size_t(d) * T);
    dweight.resize(std::max(T * k, 1));
    MOE_CUDA(cudaMemset(dweight.p, 0, std::size_t(std::max(T * k, 1)) * sizeof(float)));
    if (A > 0)
      backward_combine<<<A, 128>>>(dY.p, out.p, b2.p, sorted_token.p, sorted_slot.p, sorted_expert.p,
                                   sorted_weight.p, d, dout.p, dweight.p);
    GemmBatch gA{true, false}, gW2{false, true}, gW1{false, true}, dIn{true, false};
    for (int e = 0; e < E; ++e) {
      const int n = count(e);
      if (n == 0) continue;
      const long long c0 = host_offsets[e];
      gA.add(f, n, d, W2.p + std::size_t(e) * d * f, d, dout.p + c0 * d, d, dA.p + c0 * f, f);
      gW2.add(d, f, n, dout.p + c0 * d, d, act.p + c0 * f, f, dW2.p + std::size_t(e) * d * f, d);
      gW1.add(f, d, n, dh.p + c0 * f, f, inputs.p + c0 * d, d, dW1.p + std::size_t(e) * f * d, f);
      dIn.add(d, n, f, W1.p + std::size_t(e) * f * d, f, dh.p + c0 * f, f, dinputs.p + c0 * d, d);
    }
    gpu().run(gA, precision.ab, CUDA_R_32F, precision.compute, 0.0f);
    gpu().run(gW2, precision.ab, CUDA_R_32F, precision.compute, 1.0f);
    if (A > 0) {
      activation_backward<<<dim3(A, (f + 255) / 256), 256>>>(dA.p, pre.p, f, relu, dh.p);
      bias_grad<<<dim3(E, (d + 255) / 256), 256>>>(dout.p, offsets.p, d, db2.p);
      bias_grad<<<dim3(E, (f + 255) / 256), 256>>>(dh.p, offsets.p, f, db1.p);
    }
    gpu().run(gW1, precision.ab, CUDA_R_32F, precision.compute, 1.0f);
    gpu().run(dIn, precision.ab, precision.ab, precision.compute, 0.0f);
    if (T > 0) scatter_back<<<T, 128>>>(dY.p, dinputs.p, slot_position.p, d, k, dX.p);
    MOE_CUDA(cudaGetLastError());
  }

  void allocate_weights() {
    W1.resize(std::size_t(E) * f * d), b1.resize(std::size_t(E) * f), W2.resize(std::size_t(E) * d * f);
    b2.resize(std::size_t(E) * d);
    dW1.resize(W1.n), db1.resize(b1.n), dW2.resize(W2.n), db2.resize(b2.n);
    for (auto* g : {&dW1, &db1, &dW2, &db2}) MOE_CUDA(cudaMemset(g->p, 0, g->n * sizeof(float)));
  }
};

Precision parse_precision(const std::string& name) {
  if (name == "bf16") return {CUDA_R_16BF, CUBLAS_COMPUTE_32F};
  if (name == "float") return {CUDA_R_32F, CUBLAS_COMPUTE_32F};
  if (name == "tf32") return {CUDA_R_32F, CUBLAS_COMPUTE_32F_FAST_TF32};
  fail("unknown CUDA precision '" + name + "' (expected bf16, float or tf32)");
}

inline float host_convert(float x, float*) { return x; }
inline __nv_bfloat16 host_convert(float x, __nv_bfloat16*) { return __float2bfloat16(x); }

// float host values -> E_ on the device (bf16 rounded to nearest on the host).
template <class E_>
void upload_converted(DeviceArray<E_>& dst, const std::vector<float>& src) {
  std::vector<E_> host(src.size());
  for (std::size_t i = 0; i < src.size(); ++i) host[i] = host_convert(src[i], (E_*)nullptr);
  dst.upload(host.data(), host.size());
}

template <class E_>
CudaFfnResult run_problem(const CudaFfnProblem& p, const std::string& precision) {
  Routed<E_> r;
  r.T = int(p.tokens), r.E = int(p.experts), r.k = int(p.k), r.d = int(p.d), r.f = int(p.f);
  r.capacity = int(p.capacity);
  r.relu = p.activation == FfnActivation::relu;
  r.precision = parse_precision(precision);
  r.slot_expert.upload(p.slot_expert.data(), p.slot_expert.size());
  r.slot_weight.upload(p.slot_weight.data(), p.slot_weight.size());
  upload_converted(r.X, p.X);
  upload_converted(r.W1, p.W1), upload_converted(r.b1, p.b1), upload_converted(r.W2, p.W2), upload_converted(r.b2, p.b2);
  r.allocate_weights();
  r.dY.upload(p.dY.data(), p.dY.size());
  r.plan();
  // Poison every buffer a stage writes: an element left unwritten shows as NaN in the result.
  const float nan = std::nanf("");
  r.Y.resize(std::size_t(r.d) * r.T), r.dX.resize(std::size_t(r.d) * r.T);
  for (auto* b : {&r.Y, &r.dX})
    if (b->n) fill_value<float><<<grid_for((long long)b->n), 256>>>(b->p, (long long)b->n, nan);
  const std::size_t Au = std::max(r.A, 1);
  r.inputs.resize(std::size_t(r.d) * Au), r.pre.resize(std::size_t(r.f) * Au), r.act.resize(std::size_t(r.f) * Au);
  r.out.resize(std::size_t(r.d) * Au), r.dout.resize(std::size_t(r.d) * Au), r.dh.resize(std::size_t(r.f) * Au);
  r.dinputs.resize(std::size_t(r.d) * Au);
  r.dA.resize(std::size_t(r.f) * Au);
  for (auto* b : {&r.inputs, &r.act, &r.out, &r.dout, &r.dh, &r.dinputs})
    fill_value<E_><<<grid_for((long long)b->n), 256>>>(b->p, (long long)b->n, nan);
  for (auto* b : {&r.pre, &r.dA}) fill_value<float><<<grid_for((long long)b->n), 256>>>(b->p, (long long)b->n, nan);
  r.forward();
  r.backward();
  MOE_CUDA(cudaDeviceSynchronize());
  CudaFfnResult out;
  const std::size_t slots = p.tokens * p.k;
  const std::vector<int> pos = r.slot_position.download(slots), tok = r.sorted_token.download(std::size_t(r.A));
  out.slot_position.assign(pos.begin(), pos.end());
  out.sorted_token.assign(tok.begin(), tok.end());
  out.expert_offsets.assign(r.host_offsets.begin(), r.host_offsets.end());
  out.Y = r.Y.download(std::size_t(r.d) * r.T);
  out.dX = r.dX.download(std::size_t(r.d) * r.T);
  out.dweight = r.dweight.download(slots);
  out.dW1 = r.dW1.download(r.dW1.n), out.db1 = r.db1.download(r.db1.n);
  out.dW2 = r.dW2.download(r.dW2.n), out.db2 = r.db2.download(r.db2.n);
  return out;
}

float median(std::vector<float> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0f : v[v.size() / 2];
}

template <class E_>
CudaBenchResult bench(const PlanView& plan, const double* /*sorted_weight*/, std::size_t d, std::size_t f,
                      const std::string& precision, std::size_t steps, std::uint64_t seed) {
  Routed<E_> r;
  r.T = int(plan.tokens), r.E = int(plan.experts), r.k = int(plan.k), r.d = int(d), r.f = int(f);
  r.precision = parse_precision(precision);
  // The slots of the host plan (every slot kept: the benchmark's routing is dropless), uniform weights.
  std::vector<int> slot_expert(plan.tokens * plan.k, -1);
  for (std::size_t s = 0; s < plan.tokens * plan.k; ++s) {
    const std::int64_t pos = plan.slot_position[s];
    if (pos < 0) continue;
    std::size_t e = 0;
    while (plan.expert_offsets[e + 1] <= pos) ++e;
    slot_expert[s] = int(e);
  }
  std::vector<float> slot_weight(slot_expert.size(), 1.0f / float(plan.k));
  r.slot_expert.upload(slot_expert.data(), slot_expert.size());
  r.slot_weight.upload(slot_weight.data(), slot_weight.size());
  r.allocate_weights();
  r.X.resize(d * plan.tokens);
  r.dY.resize(d * plan.tokens);
  auto random = [&](auto& a, float scale, unsigned long long s) {
    fill_random<<<grid_for((long long)a.n), 256>>>(a.p, (long long)a.n, scale, seed * 1000 + s);
  };
  random(r.W1, 1.0f / std::sqrt(float(d)), 1), random(r.W2, 1.0f / std::sqrt(float(f)), 2);
  random(r.b1, 0.1f, 3), random(r.b2, 0.1f, 4), random(r.X, 1.0f, 5);
  fill_random<float><<<grid_for((long long)r.dY.n), 256>>>(r.dY.p, (long long)r.dY.n, 1.0f, seed * 1000 + 6);
  MOE_CUDA(cudaDeviceSynchronize());
  cudaEvent_t start, mid, stop;
  MOE_CUDA(cudaEventCreate(&start)), MOE_CUDA(cudaEventCreate(&mid)), MOE_CUDA(cudaEventCreate(&stop));
  std::vector<float> fwd, train;
  for (std::size_t step = 0; step <= steps; ++step) {
    MOE_CUDA(cudaEventRecord(start, 0));
    r.plan();
    r.forward();
    MOE_CUDA(cudaEventRecord(mid, 0));
    r.backward();
    MOE_CUDA(cudaEventRecord(stop, 0));
    MOE_CUDA(cudaEventSynchronize(stop));
    float a = 0, b = 0;
    MOE_CUDA(cudaEventElapsedTime(&a, start, mid));
    MOE_CUDA(cudaEventElapsedTime(&b, start, stop));
    if (step > 0) fwd.push_back(a), train.push_back(b);
  }
  // Dense GEMMs of the same FLOPs: one FFN over all A columns, its six products.
  const int A = r.A, fi = int(f), di = int(d);
  GemmBatch g1, g2, gA, gW2, gW1, gIn;
  gA.ta = true, gW2.tb = true, gW1.tb = true, gIn.ta = true;
  g1.add(fi, A, di, r.W1.p, fi, r.inputs.p, di, r.act.p, fi);
  g2.add(di, A, fi, r.W2.p, di, r.act.p, fi, r.out.p, di);
  gA.add(fi, A, di, r.W2.p, di, r.dout.p, di, r.dh.p, fi);  // E_ outputs: the dense rate at its best
  gW2.add(di, fi, A, r.dout.p, di, r.act.p, fi, r.dW2.p, di);
  gW1.add(fi, di, A, r.dh.p, fi, r.inputs.p, di, r.dW1.p, fi);
  gIn.add(di, A, fi, r.W1.p, fi, r.dh.p, fi, r.dinputs.p, di);
  const bool streams = gpu().use_streams;
  gpu().use_streams = true;  // a single GEMM each: plain cublasGemmEx
  std::vector<float> dfwd, dtrain;
  for (std::size_t step = 0; step <= steps; ++step) {
    MOE_CUDA(cudaEventRecord(start, 0));
    gpu().run(g1, r.precision.ab, r.precision.ab, r.precision.compute, 0.0f);
    gpu().run(g2, r.precision.ab, r.precision.ab, r.precision.compute, 0.0f);
    MOE_CUDA(cudaEventRecord(mid, 0));
    gpu().run(gA, r.precision.ab, r.precision.ab, r.precision.compute, 0.0f);
    gpu().run(gW2, r.precision.ab, CUDA_R_32F, r.precision.compute, 1.0f);
    gpu().run(gW1, r.precision.ab, CUDA_R_32F, r.precision.compute, 1.0f);
    gpu().run(gIn, r.precision.ab, r.precision.ab, r.precision.compute, 0.0f);
    MOE_CUDA(cudaEventRecord(stop, 0));
    MOE_CUDA(cudaEventSynchronize(stop));
    float a = 0, b = 0;
    MOE_CUDA(cudaEventElapsedTime(&a, start, mid));
    MOE_CUDA(cudaEventElapsedTime(&b, start, stop));
    if (step > 0) dfwd.push_back(a), dtrain.push_back(b);
  }
  gpu().use_streams = streams;
  cudaEventDestroy(start), cudaEventDestroy(mid), cudaEventDestroy(stop);
  return {median(fwd) * 1e-3, median(train) * 1e-3, median(dfwd) * 1e-3, median(dtrain) * 1e-3};
}

}  // namespace

bool cuda_built() { return true; }

int cuda_device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) return 0;
  return count;
}

std::string cuda_device_name() {
  cudaDeviceProp prop{};
  if (cuda_device_count() == 0 || cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return "";
  return prop.name;
}

CudaFfnResult cuda_sparse_ffn_run(const CudaFfnProblem& p, const std::string& precision) {
  require(p.slot_expert.size() == p.tokens * p.k && p.slot_weight.size() == p.tokens * p.k,
          "CUDA sparse FFN: expected tokens x k slots");
  require(p.X.size() == p.d * p.tokens && p.dY.size() == p.d * p.tokens, "CUDA sparse FFN: X and dY must be d x T");
  require(p.W1.size() == p.f * p.d * p.experts && p.W2.size() == p.d * p.f * p.experts &&
              p.b1.size() == p.f * p.experts && p.b2.size() == p.d * p.experts,
          "CUDA sparse FFN: weights of the wrong size");
  parse_precision(precision);
  if (precision == "bf16") return run_problem<__nv_bfloat16>(p, precision);
  return run_problem<float>(p, precision);
}

CudaBenchResult cuda_sparse_bench(const PlanView& plan, const double* sorted_weight, std::size_t d, std::size_t f,
                                  const std::string& precision, std::size_t steps, std::uint64_t seed) {
  parse_precision(precision);
  if (precision == "bf16") return bench<__nv_bfloat16>(plan, sorted_weight, d, f, precision, steps, seed);
  return bench<float>(plan, sorted_weight, d, f, precision, steps, seed);
}

}  // namespace moe::kernels
