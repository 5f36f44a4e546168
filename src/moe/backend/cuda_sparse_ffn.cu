// The CUDA backend of the routed sparse MoE layer (interface: cuda_sparse_ffn.hpp). Element type E_ is
// __nv_bfloat16 (float accumulation) or float; combine sums, the gate gradient and the weight gradients
// are float. Layouts as kernels/sparse_ffn_views.hpp: column-major, one token per column.
//
// Per step: plan on the GPU (counts per (expert, chunk of 256 slots) -> exclusive prefix sum (CUB) ->
// scatter with a stable rank inside the chunk, so the sorted order is the CPU plan's: by expert, then slot
// index; a capacity pass ranks slots in priority order first, as make_plan does), one copy of the E + 1
// offsets to the host (the GEMM shapes), gather, the expert GEMMs through cuBLAS (one strided batch per stage
// over a padded layout, or per-expert GEMMs; Gpu() says which), bias + relu in a cuBLASLt epilogue where it
// applies, combine per token in slot order (no atomics); backward likewise, gradients written (beta 0).
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cub/device/device_scan.cuh>
#include <mutex>
#include <string>
#include <vector>

#include "moe/backend/cuda_device_array.cuh"
#include "moe/core/error.hpp"
#include "moe/backend/cuda_sparse_ffn.hpp"

namespace moe::kernels {

namespace {


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
// Working buffers hold one column per kept assignment, compact (expert e's columns start at
// offsets[e]) or padded (expert e owns columns [e cap, (e + 1) cap), the rest zero), so that the GEMMs can
// run as one strided batch; sorted_column[i] maps sorted entry i to its column, column_expert[c] the
// expert of column c (pads included).

// inputs[:, sorted_column[i]] = X[:, sorted_token[i]], one block per sorted entry.
template <class E_>
__global__ void gather_columns(const E_* X, const int* sorted_token, const int* sorted_column, int d, E_* inputs) {
  const int i = blockIdx.x;
  const E_* src = X + size_t(sorted_token[i]) * d;
  E_* dst = inputs + size_t(sorted_column[i]) * d;
  for (int r = threadIdx.x; r < d; r += blockDim.x) dst[r] = src[r];
}

// x = pre + b1 of the column's expert (float, from the first GEMM); act = act(x) in E_ (the next GEMM's
// input); x is written back only where the backward needs it (gelu: relu's derivative is read off act,
// whose sign is x's). Grid (columns, ceil(f / 256)).
template <class E_>
__global__ void bias_activate(float* pre, E_* act, const E_* b1, const int* column_expert, int f, int relu) {
  const int col = blockIdx.x, r = blockIdx.y * blockDim.x + threadIdx.x;
  if (r >= f) return;
  const std::size_t i = std::size_t(col) * f + r;
  const float x = pre[i] + to_float(b1[std::size_t(column_expert[col]) * f + r]);
  if (!relu) pre[i] = x;
  act[i] = from_float<E_>(act_fn(relu, x));
}

// Y[:, t] = [X[:, t]] + sum over t's kept slots, in order, w (out[:, column] + b2_e); one block per token.
// Without the residual the caller adds X itself (the layer, in double: a bf16 X would round the residual).
template <class E_>
__global__ void combine(const E_* X, const E_* out, const E_* b2, const int* slot_position, const int* slot_expert,
                        const int* sorted_column, const float* sorted_weight, int d, int k, int residual, float* Y) {
  const int t = blockIdx.x;
  for (int r = threadIdx.x; r < d; r += blockDim.x) {
    float y = residual ? to_float(X[size_t(t) * d + r]) : 0.0f;
    for (int s = 0; s < k; ++s) {
      const int pos = slot_position[t * k + s];
      if (pos < 0) continue;
      const int e = slot_expert[t * k + s];
      y += sorted_weight[pos] * (to_float(out[size_t(sorted_column[pos]) * d + r]) + to_float(b2[size_t(e) * d + r]));
    }
    Y[size_t(t) * d + r] = y;
  }
}

// dout[:, column_i] = w_i dY[:, token_i]; dweight[sorted_slot[i]] = dY[:, token_i] . (out[:, column_i] + b2_e).
// One block of 128 threads per sorted entry.
template <class E_>
__global__ void backward_combine(const float* dY, const E_* out, const E_* b2, const int* sorted_token,
                                 const int* sorted_slot, const int* sorted_expert, const int* sorted_column,
                                 const float* sorted_weight, int d, E_* dout, float* dweight) {
  const int i = blockIdx.x, t = sorted_token[i], e = sorted_expert[i];
  const std::size_t c = std::size_t(sorted_column[i]);
  const float w = sorted_weight[i];
  float dot = 0.0f;
  for (int r = threadIdx.x; r < d; r += blockDim.x) {
    const float g = dY[size_t(t) * d + r];
    dout[c * d + r] = from_float<E_>(w * g);
    dot += g * (to_float(out[c * d + r]) + to_float(b2[size_t(e) * d + r]));
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

// dh = dA .* act'(x) (relu: x > 0 read off act, whose sign is x's; gelu: off the float pre).
template <class E_>
__global__ void activation_backward(const E_* dA, const float* pre, const E_* act, int f, int relu, E_* dh) {
  const int r = blockIdx.y * blockDim.x + threadIdx.x;
  if (r >= f) return;
  const std::size_t i = std::size_t(blockIdx.x) * f + r;
  const float g = relu ? (to_float(act[i]) > 0.0f ? 1.0f : 0.0f) : act_grad(0, pre[i]);
  dh[i] = from_float<E_>(to_float(dA[i]) * g);
}

// db[e * rows + r] = sum over expert e's kept columns of M[r, column]; grid (E, ceil(rows / 256)).
template <class E_>
__global__ void bias_sum(const E_* M, const long long* offsets, const long long* col_base, int rows, float* db) {
  const int e = blockIdx.x, r = blockIdx.y * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  float sum = 0.0f;
  const long long n = offsets[e + 1] - offsets[e];
  for (long long c = col_base[e]; c < col_base[e] + n; ++c) sum += to_float(M[size_t(c) * rows + r]);
  db[size_t(e) * rows + r] = sum;
}

// dX[:, t] = [dY[:, t]] + sum over t's kept slots, in order, dinputs[:, column]; one block per token.
template <class E_>
__global__ void scatter_back(const float* dY, const E_* dinputs, const int* slot_position, const int* sorted_column,
                             int d, int k, int residual, float* dX) {
  const int t = blockIdx.x;
  for (int r = threadIdx.x; r < d; r += blockDim.x) {
    float g = residual ? dY[size_t(t) * d + r] : 0.0f;
    for (int s = 0; s < k; ++s) {
      const int pos = slot_position[t * k + s];
      if (pos >= 0) g += to_float(dinputs[size_t(sorted_column[pos]) * d + r]);
    }
    dX[size_t(t) * d + r] = g;
  }
}

// One block per expert: the expert of every sorted entry and of every column (width: cap when padded,
// else the expert's count), and each sorted entry's column.
__global__ void label_columns(const long long* offsets, const long long* col_base, int cap, int* sorted_expert,
                              int* sorted_column, int* column_expert) {
  const int e = blockIdx.x;
  const long long begin = offsets[e], n = offsets[e + 1] - begin, width = cap > 0 ? cap : n;
  for (long long j = threadIdx.x; j < n; j += blockDim.x) {
    sorted_expert[begin + j] = e;
    sorted_column[begin + j] = int(col_base[e] + j);
  }
  for (long long j = threadIdx.x; j < width; j += blockDim.x) column_expert[col_base[e] + j] = e;
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

// float -> E_ on the device (bf16: rounded to nearest, as the host conversion).
template <class E_>
__global__ void convert(const float* from, long long n, E_* to) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
    to[i] = from_float<E_>(from[i]);
}

int grid_for(long long n) { return int(std::clamp<long long>((n + 255) / 256, 1, 132LL * 16)); }

// --- GEMMs -----------------------------------------------------------------------------------------------
// One GEMM per non-empty expert, C_e = alpha op(A_e) op(B_e) + beta C_e, all of one shape rule, issued as
// one cuBLAS grouped GEMM (every expert its own group, since n_e differs; MOE_CUDA_GEMM=grouped), or
// as cublasGemmEx calls spread over four streams, each with its own cuBLAS handle (Gpu() says which path
// runs when).
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
  cublasHandle_t side_handle[4] = {};  // one per side stream: no workspace shared between concurrent GEMMs
  cudaStream_t side[4] = {};
  cudaEvent_t fork = nullptr, join[4] = {};
  bool use_streams = false;      // per-expert GEMMs: cublasGemmEx over streams (else the grouped call)
  bool allow_padded = true;      // automatic layout choice (below); false: always compact
  bool force_padded = false;
  DeviceArray<const void*> ptrs;  // device pointer arrays of the grouped GEMMs
  cublasLtHandle_t lt = nullptr;
  DeviceArray<unsigned char> lt_workspace;
  bool lt_epilogue = true;        // MOE_CUDA_EPILOGUE=0: bias + relu as a separate pass, not in the GEMM
  bool lt_drelu = false;          // MOE_CUDA_DRELU=1: relu' in the backward GEMM's epilogue (measured slower)
  Gpu() {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) fail("no CUDA device is visible (--device cuda)");
    MOE_CUDA(cublasCreate(&handle));
    for (int i = 0; i < 4; ++i) {
      MOE_CUDA(cudaStreamCreateWithFlags(&side[i], cudaStreamNonBlocking));
      MOE_CUDA(cublasCreate(&side_handle[i]));
      MOE_CUDA(cublasSetStream(side_handle[i], side[i]));
    }
    MOE_CUDA(cudaEventCreateWithFlags(&fork, cudaEventDisableTiming));
    for (auto& e : join) MOE_CUDA(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
    // MOE_CUDA_GEMM: auto (default) = one strided batched GEMM per stage over a padded layout when the
    // padding costs at most a quarter more columns, else per-expert cublasGemmEx over four streams;
    // streams / grouped = always compact, per-expert GEMMs over streams / cuBLAS's grouped call;
    // padded = always the padded batch. Measurements in docs/notes/lab-notebook.md.
    const char* env = std::getenv("MOE_CUDA_GEMM");
    const std::string mode = env ? env : "auto";
    if (mode != "auto" && mode != "streams" && mode != "grouped" && mode != "padded")
      fail("MOE_CUDA_GEMM must be auto, streams, grouped or padded (got " + mode + ")");
    use_streams = mode != "grouped";
    allow_padded = mode == "auto" || mode == "padded";
    force_padded = mode == "padded";
    const char* epi = std::getenv("MOE_CUDA_EPILOGUE");
    lt_epilogue = !(epi && std::string(epi) == "0");
    const char* drelu = std::getenv("MOE_CUDA_DRELU");
    lt_drelu = drelu && std::string(drelu) == "1";
    MOE_CUDA(cublasLtCreate(&lt));
    lt_workspace.resize(32 << 20);
  }
  ~Gpu() {
    for (auto& h : side_handle) cublasDestroy(h);
    for (auto& s : side) cudaStreamDestroy(s);
    cudaEventDestroy(fork);
    for (auto& e : join) cudaEventDestroy(e);
    cublasLtDestroy(lt);
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
        MOE_CUDA(cublasGemmEx(side_handle[g % 4], ta, tb, b.m[g], b.n[g], b.k[g], &alpha, b.A[g], ab_type, b.lda[g], b.B[g],
                              ab_type, b.ldb[g], &beta, b.C[g], c_type, b.ldc[g], compute, CUBLAS_GEMM_DEFAULT));
      }
      for (int s = 0; s < 4; ++s) {
        MOE_CUDA(cudaEventRecord(join[s], side[s]));
        MOE_CUDA(cudaStreamWaitEvent(0, join[s], 0));
      }
      return;
    }
  }

  // D_e = epilogue(op(A_e) B_e [+ bias_e]) for e < batch through cuBLASLt, column-major operands at fixed
  // strides: RELU_BIAS and RELU_AUX_BIAS (bias m per entry; the latter also writes the relu mask as bits,
  // ld m, to aux) for the first forward GEMM, DRELU (D = (op(A) B) .* mask) for W2' dout in the backward.
  // false when cuBLASLt offers no algorithm (the caller then runs the plain GEMM and its own pass).
  bool lt_strided(cublasLtEpilogue_t epilogue, bool ta, int m, int n, int k, const void* A, int lda, long long sA,
                  const void* B, long long sB, void* D, long long sD, const void* bias, void* aux, long long aux_stride,
                  int batch, cudaDataType_t type, cublasComputeType_t compute) {
    if (!lt_epilogue) return false;
    cublasLtMatmulDesc_t op = nullptr;
    cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;
    cublasLtMatmulPreference_t pref = nullptr;
    MOE_CUDA(cublasLtMatmulDescCreate(&op, compute, CUDA_R_32F));
    const cublasOperation_t trans = ta ? CUBLAS_OP_T : CUBLAS_OP_N;
    MOE_CUDA(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &trans, sizeof trans));
    MOE_CUDA(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof epilogue));
    if (bias) {
      const std::int64_t bias_stride = m;
      MOE_CUDA(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias));
      MOE_CUDA(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_BIAS_BATCH_STRIDE, &bias_stride,
                                              sizeof bias_stride));
    }
    if (aux) {
      const std::int64_t ld = m, stride = aux_stride;
      MOE_CUDA(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER, &aux, sizeof aux));
      MOE_CUDA(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD, &ld, sizeof ld));
      MOE_CUDA(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_BATCH_STRIDE, &stride,
                                              sizeof stride));
    }
    auto layout = [&](cublasLtMatrixLayout_t& l, int rows, int cols, int ld, long long stride) {
      MOE_CUDA(cublasLtMatrixLayoutCreate(&l, type, rows, cols, ld));
      const std::int32_t count = batch;
      const std::int64_t offset = stride;
      MOE_CUDA(cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof count));
      MOE_CUDA(cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &offset, sizeof offset));
    };
    layout(a, ta ? k : m, ta ? m : k, lda, sA), layout(b, k, n, k, sB), layout(d, m, n, m, sD);
    MOE_CUDA(cublasLtMatmulPreferenceCreate(&pref));
    const std::uint64_t bytes = lt_workspace.n;
    MOE_CUDA(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &bytes, sizeof bytes));
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    const cublasStatus_t h = cublasLtMatmulAlgoGetHeuristic(lt, op, a, b, d, d, pref, 1, &result, &found);
    bool ran = false;
    if (h == CUBLAS_STATUS_SUCCESS && found > 0) {
      const float alpha = 1.0f, beta = 0.0f;
      const cublasStatus_t st = cublasLtMatmul(lt, op, &alpha, A, a, B, b, &beta, D, d, D, d, &result.algo,
                                               lt_workspace.p, lt_workspace.n, 0);
      if (st != CUBLAS_STATUS_NOT_SUPPORTED) check(st, "cublasLtMatmul (epilogue)");
      ran = st == CUBLAS_STATUS_SUCCESS;
    }
    cublasLtMatmulPreferenceDestroy(pref);
    cublasLtMatrixLayoutDestroy(a), cublasLtMatrixLayoutDestroy(b), cublasLtMatrixLayoutDestroy(d);
    cublasLtMatmulDescDestroy(op);
    return ran;
  }

  // C_e = alpha op(A_e) op(B_e) + beta C_e for e < batch, operands at fixed strides (the padded layout).
  void strided(bool ta, bool tb, int m, int n, int k, const void* A, int lda, long long sA, const void* B, int ldb,
               long long sB, void* C, int ldc, long long sC, int batch, cudaDataType_t ab_type, cudaDataType_t c_type,
               cublasComputeType_t compute, float beta) {
    if (batch == 0 || m == 0 || n == 0) return;
    const float alpha = 1.0f;
    MOE_CUDA(cublasGemmStridedBatchedEx(handle, ta ? CUBLAS_OP_T : CUBLAS_OP_N, tb ? CUBLAS_OP_T : CUBLAS_OP_N, m, n,
                                        k, &alpha, A, ab_type, lda, sA, B, ab_type, ldb, sB, &beta, C, c_type, ldc, sC,
                                        batch, compute, CUBLAS_GEMM_DEFAULT));
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

// Sessions of several threads (the loopback ranks of parallel/cuda_loopback_communicator.cu) share gpu()'s handles,
// side streams and events: one plan + forward or backward at a time.
std::mutex& gpu_mutex() {
  static std::mutex m;
  return m;
}

struct Precision {
  cudaDataType_t ab;
  cublasComputeType_t compute;
};

// --- the routed FFN on the GPU ---------------------------------------------------------------------------
template <class E_>
struct Routed {
  int T = 0, E = 0, k = 0, d = 0, f = 0, capacity = 0;
  int relu = 1, residual = 1;
  Precision precision{};
  int chunks = 0, A = 0;
  bool padded = false;   // layout of the working buffers (see label_columns)
  int cap = 0;           // padded: columns per expert (the largest count, rounded up to 8)
  int columns = 0;       // working columns: A compact, E cap padded
  bool fused = false;    // the last forward ran bias + relu in the first GEMM's epilogue (cuBLASLt)
  bool masked = false;   // ... and kept the relu mask (relu_mask: f x columns bits) for the backward
  DeviceArray<unsigned char> relu_mask;
  DeviceArray<int> slot_expert, counts, starts, slot_position, sorted_token, sorted_slot, sorted_expert;
  DeviceArray<int> sorted_column, column_expert;
  DeviceArray<unsigned char> kept;
  DeviceArray<float> slot_weight, sorted_weight, dweight, Y, dX, dY, dW1, db1, dW2, db2;
  DeviceArray<float> pre;  // f x columns in float: the first GEMM's output (not used when fused)
  DeviceArray<long long> offsets, col_base;
  DeviceArray<E_> X, W1, b1, W2, b2, inputs, act, out, dout, dh, dinputs, dA;
  DeviceArray<E_> ones;  // a column of ones: bias gradients as GEMMs (M 1), deterministic and at full bandwidth
  DeviceArray<unsigned char> scan_temp;
  std::vector<long long> host_offsets, host_col_base;

  void scan(const int* in, int* outp, int n) {
    std::size_t bytes = 0;
    MOE_CUDA(cub::DeviceScan::ExclusiveSum(nullptr, bytes, in, outp, n));
    scan_temp.resize(bytes);
    MOE_CUDA(cub::DeviceScan::ExclusiveSum(scan_temp.p, bytes, in, outp, n));
  }

  // The plan from slot_expert / slot_weight (device), the host copy of the offsets (the GEMM shapes), and
  // the layout of the working buffers.
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
    plan_offsets<<<(E + 1 + 255) / 256, 256>>>(starts.p, E, chunks, 0, offsets.p);
    // The total is the last start plus the last count.
    host_offsets.assign(E + 1, 0);
    int last_start = 0, last_count = 0;
    MOE_CUDA(cudaMemcpy(host_offsets.data(), offsets.p, E * sizeof(long long), cudaMemcpyDeviceToHost));
    MOE_CUDA(cudaMemcpy(&last_start, starts.p + std::size_t(E) * chunks - 1, sizeof(int), cudaMemcpyDeviceToHost));
    MOE_CUDA(cudaMemcpy(&last_count, counts.p + std::size_t(E) * chunks - 1, sizeof(int), cudaMemcpyDeviceToHost));
    A = last_start + last_count;
    host_offsets[E] = A;
    MOE_CUDA(cudaMemcpy(offsets.p + E, &host_offsets[E], sizeof(long long), cudaMemcpyHostToDevice));
    // Layout: padded when the batch of E equal GEMMs wastes at most a quarter of the columns.
    int most = 0;
    for (int e = 0; e < E; ++e) most = std::max(most, count(e));
    cap = (most + 7) / 8 * 8;
    const Gpu& g = gpu();
    padded = A > 0 && E > 1 && g.allow_padded && (g.force_padded || double(E) * cap <= 1.25 * A);
    columns = padded ? E * cap : A;
    host_col_base.assign(E, 0);
    for (int e = 0; e < E; ++e) host_col_base[e] = padded ? (long long)e * cap : host_offsets[e];
    col_base.upload(host_col_base.data(), host_col_base.size());
    const std::size_t Au = std::max(A, 1), Cu = std::max(columns, 1);
    sorted_token.resize(Au), sorted_slot.resize(Au), sorted_weight.resize(Au), sorted_expert.resize(Au);
    sorted_column.resize(Au), column_expert.resize(Cu);
    plan_scatter<<<chunks, chunk>>>(slot_expert.p, slot_weight.p, keep, slots, k, chunks, starts.p, slot_position.p,
                                    sorted_token.p, sorted_slot.p, sorted_weight.p);
    if (A > 0)
      label_columns<<<E, 256>>>(offsets.p, col_base.p, padded ? cap : 0, sorted_expert.p, sorted_column.p,
                                column_expert.p);
    MOE_CUDA(cudaGetLastError());
  }

  int count(int e) const { return int(host_offsets[e + 1] - host_offsets[e]); }

  // Working buffers of `columns` columns; in the padded layout the pad columns of inputs and dout are zero
  // (so they add nothing to dW1, dW2 and the bias gradients).
  void allocate_columns() {
    const std::size_t C = std::max(columns, 1);
    inputs.resize(std::size_t(d) * C), pre.resize(std::size_t(f) * C), act.resize(std::size_t(f) * C);
    out.resize(std::size_t(d) * C), dout.resize(std::size_t(d) * C), dh.resize(std::size_t(f) * C);
    dinputs.resize(std::size_t(d) * C), dA.resize(std::size_t(f) * C);
  }

  void forward() {
    allocate_columns();
    Y.resize(std::size_t(d) * T);
    if (padded) MOE_CUDA(cudaMemsetAsync(inputs.p, 0, std::size_t(d) * columns * sizeof(E_), 0));
    if (A > 0) gather_columns<<<A, 128>>>(X.p, sorted_token.p, sorted_column.p, d, inputs.p);
    const Precision& pr = precision;
    // Padded relu layers: bias + relu in the GEMM's epilogue, with the relu mask kept for the backward's
    // DRELU epilogue when f allows a bit mask (ld a multiple of 128).
    fused = masked = false;
    if (padded && relu && f % 128 == 0 && gpu().lt_drelu) {
      relu_mask.resize(std::size_t(f) * cap * E / 8);
      fused = masked = gpu().lt_strided(CUBLASLT_EPILOGUE_RELU_AUX_BIAS, false, f, cap, d, W1.p, f, (long long)f * d,
                                        inputs.p, (long long)d * cap, act.p, (long long)f * cap, b1.p, relu_mask.p,
                                        (long long)f * cap, E, pr.ab, pr.compute);
    }
    if (padded && relu && !fused)
      fused = gpu().lt_strided(CUBLASLT_EPILOGUE_RELU_BIAS, false, f, cap, d, W1.p, f, (long long)f * d, inputs.p,
                               (long long)d * cap, act.p, (long long)f * cap, b1.p, nullptr, 0, E, pr.ab, pr.compute);
    if (fused) {
      // act = relu(W1 inputs + b1) came out of the GEMM; the backward reads relu' off act.
    } else if (padded) {
      gpu().strided(false, false, f, cap, d, W1.p, f, (long long)f * d, inputs.p, d, (long long)d * cap, pre.p, f,
                    (long long)f * cap, E, pr.ab, CUDA_R_32F, pr.compute, 0.0f);
    } else {
      GemmBatch g1;
      for (int e = 0; e < E; ++e)
        if (const int n = count(e))
          g1.add(f, n, d, W1.p + std::size_t(e) * f * d, f, inputs.p + host_col_base[e] * d, d,
                 pre.p + host_col_base[e] * f, f);
      gpu().run(g1, pr.ab, CUDA_R_32F, pr.compute, 0.0f);
    }
    if (columns > 0 && !fused)
      bias_activate<<<dim3(columns, (f + 255) / 256), 256>>>(pre.p, act.p, b1.p, column_expert.p, f, relu);
    if (padded) {
      gpu().strided(false, false, d, cap, f, W2.p, d, (long long)d * f, act.p, f, (long long)f * cap, out.p, d,
                    (long long)d * cap, E, pr.ab, pr.ab, pr.compute, 0.0f);
    } else {
      GemmBatch g2;
      for (int e = 0; e < E; ++e)
        if (const int n = count(e))
          g2.add(d, n, f, W2.p + std::size_t(e) * d * f, d, act.p + host_col_base[e] * f, f,
                 out.p + host_col_base[e] * d, d);
      gpu().run(g2, pr.ab, pr.ab, pr.compute, 0.0f);
    }
    if (T > 0)
      combine<<<T, 128>>>(X.p, out.p, b2.p, slot_position.p, slot_expert.p, sorted_column.p, sorted_weight.p, d, k,
                          residual, Y.p);
    MOE_CUDA(cudaGetLastError());
  }

  void backward() {
    allocate_columns();
    dX.resize(std::size_t(d) * T);
    dweight.resize(std::max(T * k, 1));
    MOE_CUDA(cudaMemsetAsync(dweight.p, 0, std::size_t(std::max(T * k, 1)) * sizeof(float), 0));
    if (padded) MOE_CUDA(cudaMemsetAsync(dout.p, 0, std::size_t(d) * columns * sizeof(E_), 0));
    if (A > 0)
      backward_combine<<<A, 128>>>(dY.p, out.p, b2.p, sorted_token.p, sorted_slot.p, sorted_expert.p,
                                   sorted_column.p, sorted_weight.p, d, dout.p, dweight.p);
    const Precision& pr = precision;
    GemmBatch gA{true, false}, gW2{false, true}, gW1{false, true}, dIn{true, false};
    if (!padded)
      for (int e = 0; e < E; ++e) {
        const int n = count(e);
        if (n == 0) continue;
        const long long c0 = host_col_base[e];
        gA.add(f, n, d, W2.p + std::size_t(e) * d * f, d, dout.p + c0 * d, d, dA.p + c0 * f, f);
        gW2.add(d, f, n, dout.p + c0 * d, d, act.p + c0 * f, f, dW2.p + std::size_t(e) * d * f, d);
        gW1.add(f, d, n, dh.p + c0 * f, f, inputs.p + c0 * d, d, dW1.p + std::size_t(e) * f * d, f);
        dIn.add(d, n, f, W1.p + std::size_t(e) * f * d, f, dh.p + c0 * f, f, dinputs.p + c0 * d, d);
      }
    // Every gradient is written (beta 0): this step's gradients, experts without tokens set to zero.
    if (!padded)
      for (int e = 0; e < E; ++e)
        if (count(e) == 0) {
          MOE_CUDA(cudaMemsetAsync(dW1.p + std::size_t(e) * f * d, 0, std::size_t(f) * d * sizeof(float), 0));
          MOE_CUDA(cudaMemsetAsync(dW2.p + std::size_t(e) * d * f, 0, std::size_t(d) * f * sizeof(float), 0));
        }
    const long long sW = (long long)f * d, sd = (long long)d * cap, sf = (long long)f * cap;
    // dh = (W2' dout) .* relu'(x): in the GEMM's DRELU epilogue when the forward kept the mask.
    const bool drelu = padded && masked &&
                       gpu().lt_strided(CUBLASLT_EPILOGUE_DRELU, true, f, cap, d, W2.p, d, sW, dout.p, sd, dh.p, sf,
                                        nullptr, relu_mask.p, sf, E, pr.ab, pr.compute);
    if (padded) {
      if (!drelu)
        gpu().strided(true, false, f, cap, d, W2.p, d, sW, dout.p, d, sd, dA.p, f, sf, E, pr.ab, pr.ab, pr.compute, 0.0f);
      gpu().strided(false, true, d, f, cap, dout.p, d, sd, act.p, f, sf, dW2.p, d, sW, E, pr.ab, CUDA_R_32F, pr.compute, 0.0f);
    } else {
      gpu().run(gA, pr.ab, pr.ab, pr.compute, 0.0f);
      gpu().run(gW2, pr.ab, CUDA_R_32F, pr.compute, 0.0f);
    }
    if (columns > 0 && !drelu)
      activation_backward<<<dim3(columns, (f + 255) / 256), 256>>>(dA.p, pre.p, act.p, f, relu, dh.p);
    bias_grad(dout.p, d, db2.p);
    bias_grad(dh.p, f, db1.p);
    if (padded) {
      gpu().strided(false, true, f, d, cap, dh.p, f, sf, inputs.p, d, sd, dW1.p, f, sW, E, pr.ab, CUDA_R_32F, pr.compute, 0.0f);
      gpu().strided(true, false, d, cap, f, W1.p, f, sW, dh.p, f, sf, dinputs.p, d, sd, E, pr.ab, pr.ab, pr.compute, 0.0f);
    } else {
      gpu().run(gW1, pr.ab, CUDA_R_32F, pr.compute, 0.0f);
      gpu().run(dIn, pr.ab, pr.ab, pr.compute, 0.0f);
    }
    if (T > 0) scatter_back<<<T, 128>>>(dY.p, dinputs.p, slot_position.p, sorted_column.p, d, k, residual, dX.p);
    MOE_CUDA(cudaGetLastError());
  }

  // db_e = M_e 1 (rows x 1) for every expert: the sum over its columns (pads are zero in M). As GEMMs
  // (deterministic, full bandwidth) for few experts; for many (E > 32, one GEMM each would be launch-bound)
  // a kernel with one thread per (expert, row).
  void bias_grad(const E_* M, int rows, float* db) {
    MOE_CUDA(cudaMemsetAsync(db, 0, std::size_t(E) * rows * sizeof(float), 0));
    if (A == 0) return;
    if (!padded && E > 32) {
      bias_sum<<<dim3(E, (rows + 255) / 256), 256>>>(M, offsets.p, col_base.p, rows, db);
      return;
    }
    int width = cap;
    for (int e = 0; e < E; ++e) width = std::max(width, count(e));
    if (ones.n < std::size_t(width)) {
      ones.resize(width);
      fill_value<E_><<<grid_for((long long)ones.n), 256>>>(ones.p, (long long)ones.n, 1.0f);
    }
    const Precision& pr = precision;
    if (padded) {
      gpu().strided(false, false, rows, 1, cap, M, rows, (long long)rows * cap, ones.p, cap, 0, db, rows, rows, E,
                    pr.ab, CUDA_R_32F, pr.compute, 0.0f);
      return;
    }
    GemmBatch g;
    for (int e = 0; e < E; ++e)
      if (const int n = count(e)) g.add(rows, 1, n, M + host_col_base[e] * rows, rows, ones.p, n, db + std::size_t(e) * rows, rows);
    gpu().run(g, pr.ab, CUDA_R_32F, pr.compute, 0.0f);
  }

  void allocate_weights() {
    W1.resize(std::size_t(E) * f * d), b1.resize(std::size_t(E) * f), W2.resize(std::size_t(E) * d * f);
    b2.resize(std::size_t(E) * d);
    dW1.resize(W1.n), db1.resize(b1.n), dW2.resize(W2.n), db2.resize(b2.n);  // written by every backward
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

}  // namespace

struct CudaRoutedSession::Impl {
  virtual ~Impl() = default;
  virtual std::vector<float> forward(const CudaFfnProblem& p, bool poison) = 0;
  virtual const float* forward_on_device(const CudaFfnProblem& p, const float* X) = 0;
  virtual CudaFfnResult backward(const std::vector<float>& dY) = 0;
  virtual CudaFfnResult backward_on_device(const float* dY, const float** dX) = 0;
};

namespace {

template <class E_>
struct SessionImpl final : CudaRoutedSession::Impl {
  Routed<E_> r;
  explicit SessionImpl(const std::string& precision) { r.precision = parse_precision(precision); }

  std::vector<float> forward(const CudaFfnProblem& p, bool poison) override {
    require(p.X.size() == p.d * p.tokens, "CUDA sparse FFN: X must be d x T");
    upload_converted(r.X, p.X);
    run_forward(p, poison);
    return r.Y.download(std::size_t(r.d) * r.T);
  }

  const float* forward_on_device(const CudaFfnProblem& p, const float* X) override {
    const std::size_t n = p.d * p.tokens;
    r.X.resize(n);
    if (n > 0) convert<<<grid_for((long long)n), 256>>>(X, (long long)n, r.X.p);
    MOE_CUDA(cudaGetLastError());
    run_forward(p, false);
    return r.Y.p;
  }

  // The problem's slots and weights to the GPU (X is there already), the plan, the forward.
  void run_forward(const CudaFfnProblem& p, bool poison) {
    const std::lock_guard lock(gpu_mutex());
    require(p.slot_expert.size() == p.tokens * p.k && p.slot_weight.size() == p.tokens * p.k,
            "CUDA sparse FFN: expected tokens x k slots");
    require(p.experts >= 1 && p.d >= 1 && p.f >= 1 && p.k >= 1, "CUDA sparse FFN: sizes must be >= 1");
    require(p.tokens * p.k < (std::size_t(1) << 31) && p.experts * 256 < (std::size_t(1) << 31),
            "CUDA sparse FFN: too many slots for 32-bit indices");
    for (const std::int32_t e : p.slot_expert)
      require(e >= -1 && e < std::int32_t(p.experts), "CUDA sparse FFN: expert id " + std::to_string(e) + " out of range");
    require(p.W1.size() == p.f * p.d * p.experts && p.W2.size() == p.d * p.f * p.experts &&
                p.b1.size() == p.f * p.experts && p.b2.size() == p.d * p.experts,
            "CUDA sparse FFN: weights of the wrong size");
    r.T = int(p.tokens), r.E = int(p.experts), r.k = int(p.k), r.d = int(p.d), r.f = int(p.f);
    r.capacity = int(p.capacity);
    r.relu = p.activation == FfnActivation::relu;
    r.residual = p.residual;
    r.slot_expert.upload(p.slot_expert.data(), p.slot_expert.size());
    r.slot_weight.upload(p.slot_weight.data(), p.slot_weight.size());
    upload_converted(r.W1, p.W1), upload_converted(r.b1, p.b1), upload_converted(r.W2, p.W2);
    upload_converted(r.b2, p.b2);
    r.allocate_weights();
    r.plan();
    r.Y.resize(std::size_t(r.d) * r.T), r.dX.resize(std::size_t(r.d) * r.T);
    r.allocate_columns();
    if (poison) {  // every buffer a stage writes: an element left unwritten shows as NaN in the result
      const float nan = std::nanf("");
      for (auto* b : {&r.Y, &r.dX, &r.pre, &r.dW1, &r.db1, &r.dW2, &r.db2})
        fill_value<float><<<grid_for((long long)b->n), 256>>>(b->p, (long long)b->n, nan);
      for (auto* b : {&r.inputs, &r.act, &r.out, &r.dout, &r.dh, &r.dinputs, &r.dA})
        fill_value<E_><<<grid_for((long long)b->n), 256>>>(b->p, (long long)b->n, nan);
    }
    r.forward();
  }

  CudaFfnResult backward(const std::vector<float>& dY) override {
    require(dY.size() == std::size_t(r.d) * r.T, "CUDA sparse FFN: dY must be d x T");
    r.dY.upload(dY.data(), dY.size());
    CudaFfnResult out = run_backward();
    out.dX = r.dX.download(std::size_t(r.d) * r.T);
    return out;
  }

  CudaFfnResult backward_on_device(const float* dY, const float** dX) override {
    const std::size_t n = std::size_t(r.d) * r.T;
    r.dY.resize(n);
    if (n > 0) MOE_CUDA(cudaMemcpy(r.dY.p, dY, n * sizeof(float), cudaMemcpyDeviceToDevice));
    CudaFfnResult out = run_backward();
    *dX = r.dX.p;
    return out;
  }

  // The backward, and what it computed back to the host, dX aside.
  CudaFfnResult run_backward() {
    const std::lock_guard lock(gpu_mutex());
    r.backward();
    MOE_CUDA(cudaDeviceSynchronize());
    CudaFfnResult out;
    const std::size_t slots = std::size_t(r.T) * r.k;
    const std::vector<int> pos = r.slot_position.download(slots), tok = r.sorted_token.download(std::size_t(r.A));
    out.slot_position.assign(pos.begin(), pos.end());
    out.sorted_token.assign(tok.begin(), tok.end());
    out.expert_offsets.assign(r.host_offsets.begin(), r.host_offsets.end());
    out.dweight = r.dweight.download(slots);
    out.dW1 = r.dW1.download(std::size_t(r.E) * r.f * r.d), out.db1 = r.db1.download(std::size_t(r.E) * r.f);
    out.dW2 = r.dW2.download(std::size_t(r.E) * r.d * r.f), out.db2 = r.db2.download(std::size_t(r.E) * r.d);
    out.padded = r.padded;
    return out;
  }
};

float median(std::vector<float> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0f : v[v.size() / 2];
}

template <class E_>
CudaBenchResult bench(const PlanView& plan, const double* /*sorted_weight*/, std::size_t d, std::size_t f,
                      const std::string& precision, std::size_t steps, std::uint64_t seed) {
  gpu();  // the clear message when no device is visible
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
    gpu().run(gW2, r.precision.ab, CUDA_R_32F, r.precision.compute, 0.0f);  // written, as the layer's are
    gpu().run(gW1, r.precision.ab, CUDA_R_32F, r.precision.compute, 0.0f);
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

// cuda_built, cuda_device_count, cuda_set_device, cuda_device_name: src/moe/backend/cuda_device.cu.

CudaRoutedSession::CudaRoutedSession(const std::string& precision) {
  parse_precision(precision);
  gpu();  // fails here, with one clear message, when no device is visible
  if (precision == "bf16") impl_ = std::make_unique<SessionImpl<__nv_bfloat16>>(precision);
  else impl_ = std::make_unique<SessionImpl<float>>(precision);
}
CudaRoutedSession::~CudaRoutedSession() = default;
CudaRoutedSession::CudaRoutedSession(CudaRoutedSession&&) noexcept = default;
CudaRoutedSession& CudaRoutedSession::operator=(CudaRoutedSession&&) noexcept = default;
std::vector<float> CudaRoutedSession::forward(const CudaFfnProblem& p, bool poison) {
  return impl_->forward(p, poison);
}
CudaFfnResult CudaRoutedSession::backward(const std::vector<float>& dY) { return impl_->backward(dY); }
const float* CudaRoutedSession::forward_on_device(const CudaFfnProblem& p, const float* X) {
  return impl_->forward_on_device(p, X);
}
CudaFfnResult CudaRoutedSession::backward_on_device(const float* dY, const float** dX) {
  return impl_->backward_on_device(dY, dX);
}

CudaFfnResult cuda_sparse_ffn_run(const CudaFfnProblem& p, const std::string& precision) {
  CudaRoutedSession session(precision);
  std::vector<float> Y = session.forward(p, true);
  CudaFfnResult r = session.backward(p.dY);
  r.Y = std::move(Y);
  return r;
}

CudaBenchResult cuda_sparse_bench(const PlanView& plan, const double* sorted_weight, std::size_t d, std::size_t f,
                                  const std::string& precision, std::size_t steps, std::uint64_t seed) {
  parse_precision(precision);
  if (precision == "bf16") return bench<__nv_bfloat16>(plan, sorted_weight, d, f, precision, steps, seed);
  return bench<float>(plan, sorted_weight, d, f, precision, steps, seed);
}

}  // namespace moe::kernels
