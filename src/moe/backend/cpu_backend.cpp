#include "moe/backend/cpu_backend.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <new>
#include <type_traits>
#include <vector>

#include "moe/backend/auction.hpp"
#include "moe/backend/backend_registry.hpp"
#include "moe/backend/cpu_blas.hpp"
#include "moe/backend/cpu_sparse_ffn.hpp"
#include "moe/backend/routing_plan.hpp"
#include "moe/backend/scalar_functions.hpp"
#include "moe/backend/topk.hpp"
#include "moe/core/error.hpp"

namespace moe {

namespace {

// Loops over independent elements or columns: OpenMP when there is enough work to pay for waking the
// team. Each index is handled by one thread, so the split never changes a result.
template <class F>
void parallel_for(std::size_t n, std::size_t work_per_item, F f) {
  const bool wide = n > 1 && n * std::max<std::size_t>(work_per_item, 1) >= 32768;
#pragma omp parallel for schedule(static) if (wide)
  for (long i = 0; i < long(n); ++i) f(std::size_t(i));
}

// Element-wise loops: f(begin, end) on chunks of 16384 elements, OpenMP over the chunks. The body is a
// plain loop over restrict pointers, which the compiler vectorises (a per-element lambda under OpenMP
// was not: Adam took a third of a training step).
template <class F>
void parallel_chunks(std::size_t n, F f) {
  constexpr std::size_t chunk = 16384;
  const std::size_t chunks = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (chunks > 1)
  for (long c = 0; c < long(chunks); ++c) f(std::size_t(c) * chunk, std::min(n, (std::size_t(c) + 1) * chunk));
}

// Sums f(i) for i in [0, n) in fixed chunks of 4096, the chunks' sums added in order: the same value for
// any thread count.
template <class F>
double ordered_sum(std::size_t n, F f) {
  constexpr std::size_t chunk = 4096;
  const std::size_t chunks = (n + chunk - 1) / chunk;
  std::vector<double> partial(chunks, 0.0);
  parallel_for(chunks, chunk, [&](std::size_t c) {
    double s = 0.0;
    for (std::size_t i = c * chunk; i < std::min(n, (c + 1) * chunk); ++i) s += f(i);
    partial[c] = s;
  });
  double total = 0.0;
  for (const double p : partial) total += p;
  return total;
}

// The largest of m > 0 values and sum_i exp(z[i] - max): softmax(z)_i = exp(z[i] - max) / sum and
// log-sum-exp = max + log(sum). (exp(z[i] - lse) would be shorter but loses digits in float when the
// logits are large: z[i] - lse carries an absolute error of |z| ulp.)
template <class T>
struct ShiftedSum {
  T max, sum;
};
template <class T>
ShiftedSum<T> shifted_sum(const T* z, std::size_t m) {
  T mx = z[0];
  for (std::size_t i = 1; i < m; ++i) mx = std::max(mx, z[i]);
  T s = 0;
  for (std::size_t i = 0; i < m; ++i) s += std::exp(z[i] - mx);
  return {mx, s};
}

// CV^2 = var / (m^2 + 1e-10) of x (population variance, m the mean; moe/sparse/balance_losses.hpp), and
// its gradient dx: d/dx_e = (2 c_e / E) / den - var (2 m / E) / den^2 with c = x - m. 0 and zeros for
// fewer than 2 entries.
double cv_squared(const std::vector<double>& x, std::vector<double>& dx) {
  const std::size_t E = x.size();
  dx.assign(E, 0.0);
  if (E <= 1) return 0.0;
  double m = 0;
  for (const double v : x) m += v;
  m /= double(E);
  double var = 0;
  for (const double v : x) var += (v - m) * (v - m);
  var /= double(E);
  const double den = m * m + 1e-10;
  for (std::size_t e = 0; e < E; ++e)
    dx[e] = (2.0 / double(E)) * (x[e] - m) / den - var * (2.0 * m / double(E)) / (den * den);
  return var / den;
}

struct RoutedCache final : OpCache {
  kernels::SparseFfnWorkspace<float> f;
  kernels::SparseFfnWorkspace<double> d;
  std::vector<float> dweight_f;  // backward: dL/d sorted_weight, A
  std::vector<double> dweight_d;
  template <class T>
  kernels::SparseFfnWorkspace<T>& workspace() {
    if constexpr (std::is_same_v<T, float>) return f;
    else return d;
  }
  template <class T>
  std::vector<T>& dweight() {
    if constexpr (std::is_same_v<T, float>) return dweight_f;
    else return dweight_d;
  }
};

template <class T>
class CpuBackend final : public Backend {
 public:
  std::string name() const override { return std::is_same_v<T, double> ? "cpu-double" : "cpu-float"; }
  Precision precision() const override { return std::is_same_v<T, double> ? Precision::f64 : Precision::f32; }

  // ---- memory ----
  void upload(Tensor& dst, const double* src) override {
    check_dtype("upload", dst, DType::real);
    T* out = dst.data<T>();
    for (std::size_t i = 0; i < dst.size(); ++i) out[i] = T(src[i]);
  }
  void upload(Tensor& dst, const std::int32_t* src) override {
    check_dtype("upload", dst, DType::i32);
    if (!dst.empty()) std::memcpy(dst.data<std::int32_t>(), src, dst.size() * 4);
  }
  void upload(Tensor& dst, const std::int64_t* src) override {
    check_dtype("upload", dst, DType::i64);
    if (!dst.empty()) std::memcpy(dst.data<std::int64_t>(), src, dst.size() * 8);
  }
  void download(const Tensor& src, double* dst) const override {
    check_dtype("download", src, DType::real);
    const T* in = src.data<T>();
    for (std::size_t i = 0; i < src.size(); ++i) dst[i] = double(in[i]);
  }
  void download(const Tensor& src, std::int32_t* dst) const override {
    check_dtype("download", src, DType::i32);
    if (!src.empty()) std::memcpy(dst, src.data<std::int32_t>(), src.size() * 4);
  }
  void download(const Tensor& src, std::int64_t* dst) const override {
    check_dtype("download", src, DType::i64);
    if (!src.empty()) std::memcpy(dst, src.data<std::int64_t>(), src.size() * 8);
  }
  void fill(Tensor& t, double value) override {
    check_dtype("fill", t, DType::real);
    std::fill_n(t.data<T>(), t.size(), T(value));
  }
  void copy(const Tensor& src, Tensor& dst) override {
    require_shape("copy", "dst", dst, src.rows(), src.cols(), src.dtype());
    if (!src.empty()) std::memcpy(dst.raw(), src.raw(), src.size() * bytes_of(src.dtype()));
  }
  void copy_columns(const Tensor& src, std::size_t first, Tensor& dst) override {
    check_dtype("copy_columns", src, DType::real);
    require_shape("copy_columns", "dst", dst, src.rows(), dst.cols());
    require(first + dst.cols() <= src.cols(), "copy_columns: columns [" + std::to_string(first) + ", " +
                                                   std::to_string(first + dst.cols()) + ") of a " + src.shape() + " tensor");
    if (!dst.empty()) std::memcpy(dst.data<T>(), src.data<T>() + first * src.rows(), dst.size() * sizeof(T));
  }

  void gather_columns(const Tensor& src, const Tensor& idx, Tensor& dst) override {
    check_dtype("gather_columns", src, DType::real);
    require_shape("gather_columns", "idx", idx, idx.rows(), 1, DType::i64);
    require_shape("gather_columns", "dst", dst, src.rows(), idx.rows());
    const std::size_t m = src.rows();
    const std::int64_t* id = idx.data<std::int64_t>();
    for (std::size_t j = 0; j < idx.rows(); ++j)
      require(id[j] >= 0 && std::size_t(id[j]) < src.cols(), "gather_columns: column " + std::to_string(id[j]) +
                                                                 " of a " + src.shape() + " tensor");
    const T* s = src.data<T>();
    T* d = dst.data<T>();
    parallel_for(idx.rows(), m, [&](std::size_t j) { std::copy_n(s + std::size_t(id[j]) * m, m, d + j * m); });
  }

  // ---- dense ----
  void gemm(bool ta, bool tb, double alpha, const Tensor& A, const Tensor& B, double beta, Tensor& C) override {
    check_dtype("gemm", A, DType::real);
    check_dtype("gemm", B, DType::real);
    const std::size_t m = ta ? A.cols() : A.rows(), k = ta ? A.rows() : A.cols();
    const std::size_t kb = tb ? B.cols() : B.rows(), n = tb ? B.rows() : B.cols();
    require(k == kb, "gemm: op(A) is " + std::to_string(m) + " x " + std::to_string(k) + " but op(B) has " +
                         std::to_string(kb) + " rows");
    require_shape("gemm", "C", C, m, n);
    if (m == 0 || n == 0) return;
    if (k == 0) {
      scale(C, beta);
      return;
    }
    const T* a = A.data<T>();
    const T* b = B.data<T>();
    T* c = C.data<T>();
    const int lda = int(A.rows()), ldb = int(B.rows()), ldc = int(C.rows());
    // Tiles of C cut from the shape: column blocks when C is wide, else row blocks; one BLAS call each.
    // At least 4 tiles of 32 or more (so that a batch of 128 columns still feeds several threads), at
    // most 128 wide; the shape alone decides, never the thread count.
    const double flops = 2.0 * double(m) * double(n) * double(k);
    const std::size_t wide = std::max(m, n);
    const std::size_t tile = std::clamp<std::size_t>((wide / 4 + 15) / 16 * 16, 32, 128);
    if (flops < 4e6 || wide <= tile) {
      kernels::gemm(ta, tb, int(m), int(n), int(k), T(alpha), a, lda, b, ldb, T(beta), c, ldc);
      return;
    }
    if (n >= m) {
      const std::size_t tiles = (n + tile - 1) / tile;
#pragma omp parallel for schedule(dynamic, 1)
      for (long i = 0; i < long(tiles); ++i) {
        const std::size_t j0 = std::size_t(i) * tile, nj = std::min(tile, n - j0);
        const T* bj = tb ? b + j0 : b + j0 * B.rows();
        kernels::gemm(ta, tb, int(m), int(nj), int(k), T(alpha), a, lda, bj, ldb, T(beta), c + j0 * C.rows(), ldc);
      }
    } else {
      const std::size_t tiles = (m + tile - 1) / tile;
#pragma omp parallel for schedule(dynamic, 1)
      for (long i = 0; i < long(tiles); ++i) {
        const std::size_t i0 = std::size_t(i) * tile, mi = std::min(tile, m - i0);
        const T* ai = ta ? a + i0 * A.rows() : a + i0;
        kernels::gemm(ta, tb, int(mi), int(n), int(k), T(alpha), ai, lda, b, ldb, T(beta), c + i0, ldc);
      }
    }
  }

  void add_columns(Tensor& Y, const Tensor& b) override {
    check_dtype("add_columns", Y, DType::real);
    require_shape("add_columns", "b", b, Y.rows(), 1);
    const std::size_t m = Y.rows();
    T* y = Y.data<T>();
    const T* bb = b.data<T>();
    parallel_for(Y.cols(), m, [&](std::size_t j) {
      for (std::size_t i = 0; i < m; ++i) y[i + j * m] += bb[i];
    });
  }

  void sum_columns(const Tensor& X, double beta, Tensor& s) override {
    check_dtype("sum_columns", X, DType::real);
    require_shape("sum_columns", "s", s, X.rows(), 1);
    const std::size_t m = X.rows(), n = X.cols(), block = 64;
    const T* x = X.data<T>();
    T* out = s.data<T>();
    // Row blocks, each row summed over the columns in order.
    parallel_for((m + block - 1) / block, block * n, [&](std::size_t r) {
      const std::size_t i0 = r * block, i1 = std::min(m, i0 + block);
      T acc[64];
      for (std::size_t i = i0; i < i1; ++i) acc[i - i0] = beta == 0.0 ? T(0) : T(beta) * out[i];
      for (std::size_t j = 0; j < n; ++j)
        for (std::size_t i = i0; i < i1; ++i) acc[i - i0] += x[i + j * m];
      for (std::size_t i = i0; i < i1; ++i) out[i] = acc[i - i0];
    });
  }

  void axpy(double alpha, const Tensor& x, Tensor& y) override {
    check_dtype("axpy", x, DType::real);
    require_shape("axpy", "y", y, x.rows(), x.cols());
    const T* __restrict a = x.data<T>();
    T* __restrict b = y.data<T>();
    const T al = T(alpha);
    parallel_chunks(x.size(), [=](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) b[i] += al * a[i];
    });
  }

  void scale(Tensor& x, double alpha) override {
    check_dtype("scale", x, DType::real);
    T* a = x.data<T>();
    if (alpha == 0.0) {  // also clears NaN (beta = 0 semantics)
      std::fill_n(a, x.size(), T(0));
      return;
    }
    const T al = T(alpha);
    parallel_chunks(x.size(), [=](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) a[i] *= al;
    });
  }

  void activation_forward(FfnActivation act, const Tensor& pre, Tensor& out) override {
    check_dtype("activation_forward", pre, DType::real);
    require_shape("activation_forward", "out", out, pre.rows(), pre.cols());
    const T* p = pre.data<T>();
    T* o = out.data<T>();
    parallel_for(pre.size(), 8, [&](std::size_t i) { o[i] = activate(act, p[i]); });
  }

  void activation_backward(FfnActivation act, const Tensor& pre, const Tensor& dout, Tensor& dpre) override {
    check_dtype("activation_backward", pre, DType::real);
    require_shape("activation_backward", "dout", dout, pre.rows(), pre.cols());
    require_shape("activation_backward", "dpre", dpre, pre.rows(), pre.cols());
    const T* p = pre.data<T>();
    const T* g = dout.data<T>();
    T* o = dpre.data<T>();
    parallel_for(pre.size(), 8, [&](std::size_t i) { o[i] = activation_derivative(act, p[i]) * g[i]; });
  }

  void sum_squares(const Tensor& x, Tensor& acc) override {
    check_dtype("sum_squares", x, DType::real);
    require_shape("sum_squares", "acc", acc, 1, 1);
    const T* a = x.data<T>();
    *acc.data<T>() += T(ordered_sum(x.size(), [&](std::size_t i) { return double(a[i]) * double(a[i]); }));
  }

  void sum_into(const Tensor& x, double alpha, Tensor& acc) override {
    check_dtype("sum_into", x, DType::real);
    require_shape("sum_into", "acc", acc, 1, 1);
    const T* a = x.data<T>();
    *acc.data<T>() += T(alpha * ordered_sum(x.size(), [&](std::size_t i) { return double(a[i]); }));
  }

  // ---- losses ----
  void softmax_cross_entropy(const Tensor& Z, const Tensor& Y, double grad_scale, Tensor& loss, Tensor* dZ) override {
    check_dtype("softmax_cross_entropy", Z, DType::real);
    require_shape("softmax_cross_entropy", "Y", Y, Z.rows(), Z.cols());
    require_shape("softmax_cross_entropy", "loss", loss, 1, Z.cols());
    if (dZ) require_shape("softmax_cross_entropy", "dZ", *dZ, Z.rows(), Z.cols());
    const std::size_t m = Z.rows();
    const T* z = Z.data<T>();
    const T* y = Y.data<T>();
    T* l = loss.data<T>();
    T* g = dZ ? dZ->data<T>() : nullptr;
    parallel_for(Z.cols(), 4 * m, [&](std::size_t n) {
      const T* zc = z + n * m;
      const T* yc = y + n * m;
      const ShiftedSum<T> ss = shifted_sum(zc, m);
      const T lse = ss.max + std::log(ss.sum);
      T value = 0, mass = 0;
      for (std::size_t i = 0; i < m; ++i) {
        if (yc[i] != T(0)) value -= yc[i] * (zc[i] - lse);
        mass += yc[i];
      }
      l[n] = value;
      if (g)
        for (std::size_t i = 0; i < m; ++i) g[i + n * m] = T(grad_scale) * (std::exp(zc[i] - ss.max) / ss.sum * mass - yc[i]);
    });
  }

  void squared_error(const Tensor& Z, const Tensor& Y, double grad_scale, Tensor& loss, Tensor* dZ) override {
    check_dtype("squared_error", Z, DType::real);
    require_shape("squared_error", "Y", Y, Z.rows(), Z.cols());
    require_shape("squared_error", "loss", loss, 1, Z.cols());
    if (dZ) require_shape("squared_error", "dZ", *dZ, Z.rows(), Z.cols());
    const std::size_t m = Z.rows();
    const T* z = Z.data<T>();
    const T* y = Y.data<T>();
    T* l = loss.data<T>();
    T* g = dZ ? dZ->data<T>() : nullptr;
    parallel_for(Z.cols(), m, [&](std::size_t n) {
      T s = 0;
      for (std::size_t i = n * m; i < (n + 1) * m; ++i) {
        const T r = z[i] - y[i];
        s += r * r;
        if (g) g[i] = T(grad_scale) * r;
      }
      l[n] = s / 2;
    });
  }

  void softmax_columns(const Tensor& Z, Tensor& P, Tensor* lse) override {
    check_dtype("softmax_columns", Z, DType::real);
    require_shape("softmax_columns", "P", P, Z.rows(), Z.cols());
    if (lse) require_shape("softmax_columns", "lse", *lse, 1, Z.cols());
    const std::size_t m = Z.rows();
    const T* z = Z.data<T>();
    T* p = P.data<T>();
    T* out = lse ? lse->data<T>() : nullptr;
    parallel_for(Z.cols(), 4 * m, [&](std::size_t n) {
      const T* zc = z + n * m;
      T* pc = p + n * m;
      const ShiftedSum<T> ss = shifted_sum(zc, m);
      for (std::size_t i = 0; i < m; ++i) pc[i] = std::exp(zc[i] - ss.max) / ss.sum;
      if (out) out[n] = ss.max + std::log(ss.sum);
    });
  }

  void softmax_rows(const Tensor& Z, Tensor& P) override {
    check_dtype("softmax_rows", Z, DType::real);
    require_shape("softmax_rows", "P", P, Z.rows(), Z.cols());
    const std::size_t S = Z.rows(), T_ = Z.cols();
    const T* z = Z.data<T>();
    T* p = P.data<T>();
    // Row by row (strided), each row's maximum and sum in column order.
    parallel_for(S, 4 * T_, [&](std::size_t r) {
      T mx = T_ > 0 ? z[r] : T(0);
      for (std::size_t t = 1; t < T_; ++t) mx = std::max(mx, z[r + t * S]);
      T sum = 0;
      for (std::size_t t = 0; t < T_; ++t) sum += (p[r + t * S] = std::exp(z[r + t * S] - mx));
      for (std::size_t t = 0; t < T_; ++t) p[r + t * S] /= sum;
    });
  }

  void softmax_columns_backward(const Tensor& P, const Tensor& dP, Tensor& dZ) override {
    check_dtype("softmax_columns_backward", P, DType::real);
    require_shape("softmax_columns_backward", "dP", dP, P.rows(), P.cols());
    require_shape("softmax_columns_backward", "dZ", dZ, P.rows(), P.cols());
    const std::size_t m = P.rows();
    const T* p = P.data<T>();
    const T* g = dP.data<T>();
    T* out = dZ.data<T>();
    parallel_for(P.cols(), 2 * m, [&](std::size_t n) {
      T dot = 0;
      for (std::size_t i = n * m; i < (n + 1) * m; ++i) dot += p[i] * g[i];
      for (std::size_t i = n * m; i < (n + 1) * m; ++i) out[i] += p[i] * (g[i] - dot);
    });
  }

  void softmax_rows_backward(const Tensor& P, const Tensor& dP, Tensor& dZ) override {
    check_dtype("softmax_rows_backward", P, DType::real);
    require_shape("softmax_rows_backward", "dP", dP, P.rows(), P.cols());
    require_shape("softmax_rows_backward", "dZ", dZ, P.rows(), P.cols());
    const std::size_t S = P.rows(), T_ = P.cols();
    const T* p = P.data<T>();
    const T* g = dP.data<T>();
    T* out = dZ.data<T>();
    parallel_for(S, 2 * T_, [&](std::size_t r) {
      T dot = 0;
      for (std::size_t t = 0; t < T_; ++t) dot += p[r + t * S] * g[r + t * S];
      for (std::size_t t = 0; t < T_; ++t) out[r + t * S] += p[r + t * S] * (g[r + t * S] - dot);
    });
  }

  // ---- routing ----
  void top_k(const Tensor& scores, const Tensor* bias, std::size_t k, Tensor& slot_expert) override {
    check_dtype("top_k", scores, DType::real);
    const std::size_t E = scores.rows();
    require(k >= 1 && k <= E, "top_k: k = " + std::to_string(k) + " must be between 1 and " + std::to_string(E));
    require_shape("top_k", "slot_expert", slot_expert, k, scores.cols(), DType::i32);
    if (bias) require_shape("top_k", "bias", *bias, E, 1);
    const T* s = scores.data<T>();
    const T* b = bias ? bias->data<T>() : nullptr;
    std::int32_t* out = slot_expert.data<std::int32_t>();
    parallel_for(scores.cols(), E * k, [&](std::size_t t) {
      if (!b) return top_k_indices(s + t * E, E, k, out + t * k);
      T biased[1024];
      std::vector<T> big;
      T* v = biased;
      if (E > 1024) big.resize(E), v = big.data();
      for (std::size_t e = 0; e < E; ++e) v[e] = s[t * E + e] + b[e];
      top_k_indices(v, E, k, out + t * k);
    });
  }

  void slot_weights(const Tensor& P, const Tensor& slot_expert, bool renormalize, Tensor& w) override {
    check_dtype("slot_weights", P, DType::real);
    const std::size_t E = P.rows(), T_ = P.cols(), k = slot_expert.rows();
    require_shape("slot_weights", "slot_expert", slot_expert, k, T_, DType::i32);
    require_shape("slot_weights", "w", w, k, T_);
    const T* p = P.data<T>();
    const std::int32_t* se = slot_expert.data<std::int32_t>();
    T* out = w.data<T>();
    parallel_for(T_, k, [&](std::size_t t) {
      T sum = 0;
      for (std::size_t s = 0; s < k; ++s)
        if (se[t * k + s] >= 0) sum += p[t * E + std::size_t(se[t * k + s])];
      for (std::size_t s = 0; s < k; ++s) {
        const std::int32_t e = se[t * k + s];
        const T v = e >= 0 ? p[t * E + std::size_t(e)] : T(0);
        out[t * k + s] = renormalize && sum > T(0) ? v / sum : v;
      }
    });
  }

  void slot_weights_backward(const Tensor& P, const Tensor& slot_expert, bool renormalize, const Tensor& dw,
                             Tensor& dZ) override {
    check_dtype("slot_weights_backward", P, DType::real);
    const std::size_t E = P.rows(), T_ = P.cols(), k = slot_expert.rows();
    require_shape("slot_weights_backward", "slot_expert", slot_expert, k, T_, DType::i32);
    require_shape("slot_weights_backward", "dw", dw, k, T_);
    require_shape("slot_weights_backward", "dZ", dZ, E, T_);
    const T* p = P.data<T>();
    const std::int32_t* se = slot_expert.data<std::int32_t>();
    const T* g = dw.data<T>();
    T* dz = dZ.data<T>();
    parallel_for(T_, E + k * k, [&](std::size_t t) {
      const T* pc = p + t * E;
      const std::int32_t* ec = se + t * k;
      const T* gc = g + t * k;
      // dP is nonzero on the chosen experts only: dP_{e_s} = g_s / S - [renormalised] sum_r g_r w_r / S.
      T S = 0, gw = 0;
      for (std::size_t s = 0; s < k; ++s)
        if (ec[s] >= 0) S += pc[ec[s]];
      if (!renormalize || S <= T(0)) S = 1;
      for (std::size_t s = 0; s < k; ++s)
        if (ec[s] >= 0) gw += gc[s] * pc[ec[s]] / S;
      const T shift = renormalize ? gw / S : T(0);
      // dZ = P .* (dP - P . dP); P . dP = sum over chosen e_s of P_{e_s} dP_{e_s}.
      T dot = 0;
      for (std::size_t s = 0; s < k; ++s)
        if (ec[s] >= 0) dot += pc[ec[s]] * (gc[s] / S - shift);
      T* dc = dz + t * E;
      for (std::size_t e = 0; e < E; ++e) dc[e] -= pc[e] * dot;
      for (std::size_t s = 0; s < k; ++s)
        if (ec[s] >= 0) dc[ec[s]] += pc[ec[s]] * (gc[s] / S - shift);
    });
  }

  void sigmoid(const Tensor& Z, Tensor& S) override {
    check_dtype("sigmoid", Z, DType::real);
    require_shape("sigmoid", "S", S, Z.rows(), Z.cols());
    const T* __restrict z = Z.data<T>();
    T* __restrict out = S.data<T>();
    parallel_chunks(Z.size(), [=](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) out[i] = T(1) / (T(1) + std::exp(-z[i]));
    });
  }

  void sigmoid_slot_weights(const Tensor& Z, const Tensor& slot_expert, bool renormalize, Tensor& w) override {
    check_dtype("sigmoid_slot_weights", Z, DType::real);
    const std::size_t E = Z.rows(), T_ = Z.cols(), k = slot_expert.rows();
    require_shape("sigmoid_slot_weights", "slot_expert", slot_expert, k, T_, DType::i32);
    require_shape("sigmoid_slot_weights", "w", w, k, T_);
    const T* z = Z.data<T>();
    const std::int32_t* se = slot_expert.data<std::int32_t>();
    T* out = w.data<T>();
    parallel_for(T_, 4 * k, [&](std::size_t t) {
      const std::int32_t* et = se + t * k;
      T* wt = out + t * k;
      if (!renormalize) {
        for (std::size_t s = 0; s < k; ++s) wt[s] = et[s] >= 0 ? T(1) / (T(1) + std::exp(-z[t * E + et[s]])) : T(0);
        return;
      }
      // A softmax of log sigmoid over the chosen experts.
      T top = -std::numeric_limits<T>::infinity(), sum = 0;
      for (std::size_t s = 0; s < k; ++s)
        if (et[s] >= 0) top = std::max(top, wt[s] = log_sigmoid(z[t * E + et[s]]));
      for (std::size_t s = 0; s < k; ++s) sum += (wt[s] = et[s] >= 0 ? std::exp(wt[s] - top) : T(0));
      for (std::size_t s = 0; s < k; ++s) wt[s] = sum > T(0) ? wt[s] / sum : T(0);
    });
  }

  void sigmoid_slot_weights_backward(const Tensor& Z, const Tensor& slot_expert, bool renormalize, const Tensor& dw,
                                     Tensor& dZ) override {
    check_dtype("sigmoid_slot_weights_backward", Z, DType::real);
    const std::size_t E = Z.rows(), T_ = Z.cols(), k = slot_expert.rows();
    require_shape("sigmoid_slot_weights_backward", "slot_expert", slot_expert, k, T_, DType::i32);
    require_shape("sigmoid_slot_weights_backward", "dw", dw, k, T_);
    require_shape("sigmoid_slot_weights_backward", "dZ", dZ, E, T_);
    Tensor w = tensor(k, T_);
    sigmoid_slot_weights(Z, slot_expert, renormalize, w);
    const T* z = Z.data<T>();
    const std::int32_t* se = slot_expert.data<std::int32_t>();
    const T* g = dw.data<T>();
    const T* wv = w.data<T>();
    T* dz = dZ.data<T>();
    parallel_for(T_, 4 * k, [&](std::size_t t) {
      const std::int32_t* et = se + t * k;
      T gw = 0;
      if (renormalize)
        for (std::size_t s = 0; s < k; ++s) gw += g[t * k + s] * wv[t * k + s];
      for (std::size_t s = 0; s < k; ++s) {
        if (et[s] < 0) continue;
        const T sig = T(1) / (T(1) + std::exp(-z[t * E + et[s]]));
        dz[t * E + et[s]] += renormalize ? (g[t * k + s] - gw) * wv[t * k + s] * (T(1) - sig)
                                         : g[t * k + s] * sig * (T(1) - sig);
      }
    });
  }

  void expert_choice(const Tensor& P, std::size_t C, DevicePlan& plan) override {
    check_dtype("expert_choice", P, DType::real);
    const std::size_t E = P.rows(), T_ = P.cols();
    require(E == plan.experts && T_ == plan.tokens, "expert_choice: the plan's sizes differ from the scores'");
    require(C <= T_, "expert_choice: more tokens per expert than tokens");
    const T* p = P.data<T>();
    std::vector<std::int32_t> chosen(E * C);
    parallel_for(E, T_ * 8, [&](std::size_t e) {
      std::vector<std::int32_t> order(T_);
      for (std::size_t t = 0; t < T_; ++t) order[t] = std::int32_t(t);
      std::partial_sort(order.begin(), order.begin() + long(C), order.end(), [&](std::int32_t a, std::int32_t b) {
        const T sa = p[std::size_t(a) * E + e], sb = p[std::size_t(b) * E + e];
        return sa > sb || (sa == sb && a < b);
      });
      std::copy(order.begin(), order.begin() + long(C), chosen.begin() + long(e * C));
    });
    std::vector<std::size_t> per_token(T_, 0);
    for (const std::int32_t t : chosen) ++per_token[std::size_t(t)];
    std::size_t k = 1;
    for (const std::size_t c : per_token) k = std::max(k, c);
    plan.k = k;
    reshape(plan.slot_expert, k, T_, DType::i32);
    reshape(plan.slot_weight, k, T_);
    std::int32_t* se = plan.slot_expert.data<std::int32_t>();
    T* w = plan.slot_weight.data<T>();
    std::fill_n(se, k * T_, -1);
    std::fill_n(w, k * T_, T(0));
    std::fill(per_token.begin(), per_token.end(), 0);
    for (std::size_t e = 0; e < E; ++e)  // experts ascending inside each token
      for (std::size_t j = 0; j < C; ++j) {
        const auto t = std::size_t(chosen[e * C + j]);
        const std::size_t slot = t * k + per_token[t]++;
        se[slot] = std::int32_t(e);
        w[slot] = p[t * E + e];
      }
  }

  void balanced_assignment(const Tensor& scores, std::size_t capacity, double eps, Tensor& slot_expert) override {
    check_dtype("balanced_assignment", scores, DType::real);
    const std::size_t E = scores.rows(), T_ = scores.cols();
    require_shape("balanced_assignment", "slot_expert", slot_expert, 1, T_, DType::i32);
    require(E * capacity >= T_, "balanced_assignment: " + std::to_string(E) + " experts of " + std::to_string(capacity) +
                                    " places cannot take " + std::to_string(T_) + " tokens");
    if (T_ == 0) return;
    arma::mat A(E, T_);
    download(scores, A.memptr());
    const std::vector<std::int32_t> chosen = auction_assignment(A, capacity, eps);
    std::copy(chosen.begin(), chosen.end(), slot_expert.data<std::int32_t>());
  }

  void random_second_choice(const Tensor& P, const Tensor& u, double threshold, Tensor& slot_expert,
                            Tensor& slot_weight) override {
    check_dtype("random_second_choice", P, DType::real);
    const std::size_t E = P.rows(), T_ = P.cols();
    require_shape("random_second_choice", "u", u, 1, T_);
    require_shape("random_second_choice", "slot_expert", slot_expert, 2, T_, DType::i32);
    require_shape("random_second_choice", "slot_weight", slot_weight, 2, T_);
    require(threshold > 0.0, "random_second_choice: the threshold must be positive");
    const T* p = P.data<T>();
    const T* uu = u.data<T>();
    std::int32_t* se = slot_expert.data<std::int32_t>();
    T* w = slot_weight.data<T>();
    for (std::size_t t = 0; t < T_; ++t) {
      if (se[2 * t] < 0 || se[2 * t + 1] < 0) continue;
      const double g1 = double(p[t * E + std::size_t(se[2 * t])]), g2 = double(p[t * E + std::size_t(se[2 * t + 1])]);
      const double keep = std::min(1.0, g2 / (g1 + g2) / threshold);
      if (!(double(uu[t]) < keep)) se[2 * t + 1] = -1, w[2 * t + 1] = T(0);
    }
  }

  void noisy_logits(const Tensor& Z, const Tensor& N, const Tensor& eps, Tensor& H) override {
    check_dtype("noisy_logits", Z, DType::real);
    for (const Tensor* t : {&N, &eps, static_cast<const Tensor*>(&H)})
      require_shape("noisy_logits", "an argument", *t, Z.rows(), Z.cols());
    const T* __restrict z = Z.data<T>();
    const T* __restrict n = N.data<T>();
    const T* __restrict e = eps.data<T>();
    T* __restrict h = H.data<T>();
    parallel_chunks(Z.size(), [=](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) h[i] = z[i] + e[i] * softplus(n[i]);
    });
  }

  void noisy_logits_backward(const Tensor& N, const Tensor& eps, const Tensor& dH, Tensor& dN) override {
    check_dtype("noisy_logits_backward", N, DType::real);
    for (const Tensor* t : {&eps, &dH, static_cast<const Tensor*>(&dN)})
      require_shape("noisy_logits_backward", "an argument", *t, N.rows(), N.cols());
    const T* __restrict n = N.data<T>();
    const T* __restrict e = eps.data<T>();
    const T* __restrict g = dH.data<T>();
    T* __restrict out = dN.data<T>();
    parallel_chunks(N.size(), [=](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) out[i] += g[i] * e[i] / (T(1) + std::exp(-n[i]));
    });
  }

  void smooth_load_loss(const Tensor& Z, const Tensor& N, const Tensor& H, const Tensor& eps, std::size_t k,
                        double weight, Tensor& acc, Tensor& dZ, Tensor& dN, const ShardSum* shard) override {
    check_dtype("smooth_load_loss", Z, DType::real);
    const std::size_t E = Z.rows(), T_ = Z.cols();
    for (const Tensor* t : {&N, &H, &eps, static_cast<const Tensor*>(&dZ), static_cast<const Tensor*>(&dN)})
      require_shape("smooth_load_loss", "an argument", *t, E, T_);
    require_shape("smooth_load_loss", "acc", acc, 1, 1);
    require(k >= 1 && k <= E, "smooth_load_loss: k must be between 1 and the experts");
    if (k >= E) return;  // every expert always in the top k: P = 1, value and gradient 0 (on every shard)
    if (T_ == 0 && !shard) return;
    const T* z = Z.data<T>();
    const T* n = N.data<T>();
    const T* h = H.data<T>();
    const T* ep = eps.data<T>();
    // Per (i, t): the index of the threshold entry (the k-th largest of H(:, t) without i).
    std::vector<std::int32_t> index(E * T_);
    parallel_for(T_, E * k, [&](std::size_t t) {
      std::int32_t top[1025];
      std::vector<std::int32_t> big;
      std::int32_t* tp = top;
      if (k + 1 > 1025) big.resize(k + 1), tp = big.data();
      top_k_indices(h + t * E, E, k + 1, tp);
      for (std::size_t i = 0; i < E; ++i) {
        bool in_top = false;
        for (std::size_t r = 0; r < k; ++r) in_top |= std::size_t(tp[r]) == i;
        index[t * E + i] = in_top ? tp[k] : tp[k - 1];
      }
    });
    // Load in double, each expert's sum over tokens in order.
    auto sd_of = [](T nl) { return std::max(double(softplus(nl)), 1e-12); };
    std::vector<double> load(E, 0.0);
    for (std::size_t t = 0; t < T_; ++t)
      for (std::size_t i = 0; i < E; ++i) {
        const double zz = (double(z[t * E + i]) - double(h[t * E + std::size_t(index[t * E + i])])) / sd_of(n[t * E + i]);
        load[i] += 0.5 * std::erfc(-zz / std::sqrt(2.0));
      }
    if (shard) shard->sum(load.data(), E);
    std::vector<double> dload;
    *acc.data<T>() += T(cv_squared(load, dload));
    for (double& g : dload) g *= weight;
    // Gradients: each token's column alone (own terms and threshold entries are in the same column).
    T* gz = dZ.data<T>();
    T* gn = dN.data<T>();
    constexpr double inv_sqrt_2pi = 0.39894228040143267794;
    parallel_for(T_, 4 * E, [&](std::size_t t) {
      for (std::size_t i = 0; i < E; ++i) {
        const std::size_t j = std::size_t(index[t * E + i]);
        const double sd = sd_of(n[t * E + i]);
        const double zz = (double(z[t * E + i]) - double(h[t * E + j])) / sd;
        const double dz = dload[i] * inv_sqrt_2pi * std::exp(-0.5 * zz * zz);
        if (dz == 0.0) continue;
        gz[t * E + i] += T(dz / sd);
        gn[t * E + i] += T(-dz * zz / sd / (1.0 + std::exp(-double(n[t * E + i]))));
        const double dthreshold = -dz / sd;
        gz[t * E + j] += T(dthreshold);
        gn[t * E + j] += T(dthreshold * double(ep[t * E + j]) / (1.0 + std::exp(-double(n[t * E + j]))));
      }
    });
  }

  void hash_experts(const Tensor& ids, std::size_t experts, Tensor& slot_expert) override {
    require(experts >= 1, "hash_experts: needs at least one expert");
    require_shape("hash_experts", "ids", ids, ids.rows(), 1, DType::i64);
    require_shape("hash_experts", "slot_expert", slot_expert, 1, ids.rows(), DType::i32);
    const std::int64_t* id = ids.data<std::int64_t>();
    std::int32_t* out = slot_expert.data<std::int32_t>();
    for (std::size_t t = 0; t < ids.rows(); ++t) out[t] = std::int32_t(mix_token_id(std::uint64_t(id[t])) % experts);
  }

  void build_plan(DevicePlan& plan) override {
    const std::size_t T_ = plan.tokens, E = plan.experts, k = plan.k;
    require_shape("build_plan", "slot_expert", plan.slot_expert, k, T_, DType::i32);
    require_shape("build_plan", "slot_weight", plan.slot_weight, k, T_);
    const std::int32_t* se = plan.slot_expert.data<std::int32_t>();
    const T* sw = plan.slot_weight.data<T>();
    RoutingPlan host = make_plan(T_, E, k, std::vector<std::int32_t>(se, se + T_ * k),
                                 std::vector<double>(sw, sw + T_ * k), plan.capacity, plan.prior_claims);
    reshape(plan.slot_position, k, T_, DType::i64);
    reshape(plan.expert_offsets, E + 1, 1, DType::i64);
    reshape(plan.sorted_token, T_ * k, 1, DType::i32);
    reshape(plan.sorted_slot, T_ * k, 1, DType::i64);
    reshape(plan.sorted_weight, T_ * k, 1);
    upload(plan.slot_position, host.slot_position.data());
    upload(plan.expert_offsets, host.expert_offsets.data());
    const std::size_t A = host.assignments();
    std::copy_n(host.sorted_token.data(), A, plan.sorted_token.data<std::int32_t>());
    std::copy_n(host.sorted_slot.data(), A, plan.sorted_slot.data<std::int64_t>());
    T* w = plan.sorted_weight.data<T>();
    for (std::size_t i = 0; i < A; ++i) w[i] = T(host.sorted_weight[i]);
    // The unused tail: defined values, so that a whole-tensor download is deterministic.
    std::fill(plan.sorted_token.data<std::int32_t>() + A, plan.sorted_token.data<std::int32_t>() + T_ * k, -1);
    std::fill(plan.sorted_slot.data<std::int64_t>() + A, plan.sorted_slot.data<std::int64_t>() + T_ * k, -1);
    std::fill(w + A, w + T_ * k, T(0));
  }

  void routing_counts(const DevicePlan& plan, Tensor& sums) override {
    const std::size_t E = plan.experts, k = plan.k;
    require_shape("routing_counts", "sums", sums, 3 * E + 2, 1);
    const std::int32_t* se = plan.slot_expert.data<std::int32_t>();
    const std::int64_t* pos = plan.slot_position.data<std::int64_t>();
    const T* w = plan.slot_weight.data<T>();
    T* c = sums.data<T>();
    for (std::size_t t = 0; t < plan.tokens; ++t) {
      bool kept = false;
      for (std::size_t i = t * k; i < (t + 1) * k; ++i) {
        kept |= pos[i] >= 0;
        if (se[i] < 0) continue;
        const std::size_t e = std::size_t(se[i]);
        if (pos[i] >= 0) c[e] += T(1);
        c[E + e] += T(1);
        c[2 * E + e] += w[i];
      }
      if (!kept) c[3 * E] += T(1);
    }
    c[3 * E + 1] += T(plan.tokens);
  }

  void bias_update(const DevicePlan& plan, double rate, Tensor& bias, const ShardSum* shard) override {
    const std::size_t E = plan.experts;
    require_shape("bias_update", "bias", bias, E, 1);
    std::vector<double> load = slot_loads(plan);
    if (shard) shard->sum(load.data(), E);
    double mean = 0;
    for (const double l : load) mean += l;
    mean /= double(E);
    T* b = bias.data<T>();
    for (std::size_t e = 0; e < E; ++e) b[e] += T(rate * double((mean > load[e]) - (mean < load[e])));
  }

  // ---- routed experts ----
  void routed_ffn_forward(const DevicePlan& plan, const ExpertBank& w, FfnActivation a, const Tensor& X, bool residual,
                          Tensor& Y, std::unique_ptr<OpCache>& cache) override {
    const kernels::ExpertWeights<T> weights = expert_weights("routed_ffn_forward", plan, w, X.rows());
    require_shape("routed_ffn_forward", "X", X, weights.d, plan.tokens);
    require_shape("routed_ffn_forward", "Y", Y, weights.d, plan.tokens);
    RoutedCache& c = routed_cache(cache);
    kernels::sparse_ffn_forward<T>(plan_view(plan), plan.sorted_weight.data<T>(), weights, a, X.data<T>(), residual,
                                   Y.data<T>(), c.workspace<T>());
  }

  void routed_ffn_backward(const DevicePlan& plan, const ExpertBank& w, FfnActivation a, const Tensor& dY,
                           bool residual, Tensor& dX, ExpertBank& grads, Tensor& dw,
                           std::unique_ptr<OpCache>& cache) override {
    const kernels::ExpertWeights<T> weights = expert_weights("routed_ffn_backward", plan, w, dY.rows());
    require_shape("routed_ffn_backward", "dY", dY, weights.d, plan.tokens);
    require_shape("routed_ffn_backward", "dX", dX, weights.d, plan.tokens);
    require_shape("routed_ffn_backward", "dw", dw, plan.k, plan.tokens);
    const ExpertBank& g = grads;
    expert_weights("routed_ffn_backward (gradients)", plan, g, weights.d);
    require(cache != nullptr, "routed_ffn_backward: no forward pass to go back through");
    RoutedCache& c = routed_cache(cache);
    const kernels::PlanView view = plan_view(plan);
    std::vector<T>& dsorted = c.dweight<T>();
    dsorted.resize(std::max<std::size_t>(view.assignments(), 1));
    kernels::sparse_ffn_backward<T>(view, plan.sorted_weight.data<T>(), weights, a, dY.data<T>(), residual,
                                    dX.data<T>(),
                                    {grads.W1.data<T>(), grads.b1.data<T>(), grads.W2.data<T>(), grads.b2.data<T>()},
                                    dsorted.data(), c.workspace<T>(), kernels::GradMode::accumulate);
    const std::int64_t* pos = plan.slot_position.data<std::int64_t>();
    T* out = dw.data<T>();
    for (std::size_t i = 0; i < plan.tokens * plan.k; ++i) out[i] = pos[i] >= 0 ? dsorted[std::size_t(pos[i])] : T(0);
  }

  std::size_t kept_assignments(const char* op, const DevicePlan& plan) const {
    require_shape(op, "expert_offsets", plan.expert_offsets, plan.experts + 1, 1, DType::i64);
    require_shape(op, "slot_position", plan.slot_position, plan.k, plan.tokens, DType::i64);
    return std::size_t(plan.expert_offsets.data<std::int64_t>()[plan.experts]);
  }

  void combine_slots(const DevicePlan& plan, const Tensor& outs, bool weighted, Tensor& Y) override {
    const std::size_t A = kept_assignments("combine_slots", plan), d = Y.rows(), k = plan.k;
    require_shape("combine_slots", "outs", outs, d, A);
    require_shape("combine_slots", "Y", Y, d, plan.tokens);
    if (weighted) require_shape("combine_slots", "slot_weight", plan.slot_weight, k, plan.tokens);
    const std::int64_t* pos = plan.slot_position.data<std::int64_t>();
    const T* w = weighted ? plan.slot_weight.data<T>() : nullptr;
    const T* o = outs.data<T>();
    T* y = Y.data<T>();
    parallel_for(plan.tokens, k * d, [&](std::size_t t) {
      for (std::size_t s = t * k; s < (t + 1) * k; ++s) {
        if (pos[s] < 0) continue;
        const T ws = w ? w[s] : T(1);
        const T* __restrict from = o + std::size_t(pos[s]) * d;
        T* __restrict to = y + t * d;
        for (std::size_t i = 0; i < d; ++i) to[i] += ws * from[i];
      }
    });
  }

  void combine_slots_backward(const DevicePlan& plan, const Tensor& outs, const Tensor& dY, Tensor& douts,
                              Tensor& dw) override {
    const std::size_t A = kept_assignments("combine_slots_backward", plan), d = dY.rows(), k = plan.k;
    require_shape("combine_slots_backward", "outs", outs, d, A);
    require_shape("combine_slots_backward", "dY", dY, d, plan.tokens);
    require_shape("combine_slots_backward", "douts", douts, d, A);
    require_shape("combine_slots_backward", "dw", dw, k, plan.tokens);
    require_shape("combine_slots_backward", "slot_weight", plan.slot_weight, k, plan.tokens);
    const std::int64_t* pos = plan.slot_position.data<std::int64_t>();
    const T* w = plan.slot_weight.data<T>();
    const T* o = outs.data<T>();
    const T* g = dY.data<T>();
    T* gw = dw.data<T>();
    T* go = douts.data<T>();
    parallel_for(plan.tokens, k * d, [&](std::size_t t) {
      const T* __restrict gt = g + t * d;
      for (std::size_t s = t * k; s < (t + 1) * k; ++s) {
        if (pos[s] < 0) {
          gw[s] = T(0);
          continue;
        }
        const T* __restrict from = o + std::size_t(pos[s]) * d;
        T* __restrict to = go + std::size_t(pos[s]) * d;
        T dot = 0;
        for (std::size_t i = 0; i < d; ++i) dot += gt[i] * from[i], to[i] = w[s] * gt[i];
        gw[s] = dot;
      }
    });
  }

  // ---- balancing losses ----
  void switch_loss(const Tensor& Z, const Tensor& P, double weight, Tensor& acc, Tensor& dZ,
                   const ShardSum* shard) override {
    check_dtype("switch_loss", Z, DType::real);
    const std::size_t E = Z.rows(), T_ = Z.cols();
    require_shape("switch_loss", "P", P, E, T_);
    require_shape("switch_loss", "acc", acc, 1, 1);
    require_shape("switch_loss", "dZ", dZ, E, T_);
    if (T_ == 0 && !shard) return;
    const T* z = Z.data<T>();
    const T* p = P.data<T>();
    std::vector<double> sums(2 * E + 1, 0.0);  // f_e counts, then P's sums, then the tokens
    double* f = sums.data();
    double* mean = sums.data() + E;
    for (std::size_t t = 0; t < T_; ++t) {
      const T* zc = z + t * E;
      f[std::size_t(std::max_element(zc, zc + E) - zc)] += 1.0;  // the first maximum on ties
      for (std::size_t e = 0; e < E; ++e) mean[e] += double(p[t * E + e]);
    }
    sums[2 * E] = double(T_);
    if (shard) shard->sum(sums.data(), sums.size());
    const double batch = sums[2 * E];
    if (batch == 0.0) return;
    double value = 0.0;
    std::vector<T> dP(E);
    for (std::size_t e = 0; e < E; ++e) {
      value += (f[e] / batch) * (mean[e] / batch);
      dP[e] = T(weight * double(E) * f[e] / batch / batch);
    }
    *acc.data<T>() += T(double(E) * value);
    T* dz = dZ.data<T>();
    parallel_for(T_, 2 * E, [&](std::size_t t) {
      const T* pc = p + t * E;
      T dot = 0;
      for (std::size_t e = 0; e < E; ++e) dot += pc[e] * dP[e];
      for (std::size_t e = 0; e < E; ++e) dz[t * E + e] += pc[e] * (dP[e] - dot);
    });
  }

  void importance_loss(const DevicePlan& plan, double weight, Tensor& acc, Tensor& dw, const ShardSum* shard) override {
    const std::size_t E = plan.experts, slots = plan.tokens * plan.k;
    require_shape("importance_loss", "acc", acc, 1, 1);
    require_shape("importance_loss", "dw", dw, plan.k, plan.tokens);
    const std::int32_t* se = plan.slot_expert.data<std::int32_t>();
    const T* w = plan.slot_weight.data<T>();
    std::vector<double> importance(E, 0.0);
    for (std::size_t i = 0; i < slots; ++i)
      if (se[i] >= 0) importance[std::size_t(se[i])] += double(w[i]);
    if (E <= 1) return;  // CV^2 = 0, no gradient (on every shard)
    if (shard) shard->sum(importance.data(), E);
    std::vector<double> d;
    *acc.data<T>() += T(cv_squared(importance, d));
    T* g = dw.data<T>();
    for (std::size_t i = 0; i < slots; ++i)
      if (se[i] >= 0) g[i] += T(weight * d[std::size_t(se[i])]);
  }

  void z_loss(const Tensor& P, const Tensor& lse, double weight, Tensor& acc, Tensor& dZ,
              const ShardSum* shard) override {
    check_dtype("z_loss", P, DType::real);
    const std::size_t E = P.rows(), T_ = P.cols();
    require_shape("z_loss", "lse", lse, 1, T_);
    require_shape("z_loss", "acc", acc, 1, 1);
    require_shape("z_loss", "dZ", dZ, E, T_);
    if (T_ == 0 && !shard) return;
    const T* l = lse.data<T>();
    const T* p = P.data<T>();
    double sums[2] = {ordered_sum(T_, [&](std::size_t t) { return double(l[t]) * double(l[t]); }), double(T_)};
    if (shard) shard->sum(sums, 2);
    if (sums[1] == 0.0) return;
    *acc.data<T>() += T(sums[0] / sums[1]);
    T* dz = dZ.data<T>();
    const double batch = sums[1];
    parallel_for(T_, E, [&](std::size_t t) {
      const T c = T(weight * 2.0 / batch) * l[t];
      for (std::size_t e = 0; e < E; ++e) dz[t * E + e] += c * p[t * E + e];
    });
  }

  // ---- optimisers ----
  void clip_factor(const Tensor& sumsq, double max_norm, Tensor& scale) override {
    require_shape("clip_factor", "sumsq", sumsq, 1, 1);
    require_shape("clip_factor", "scale", scale, 1, 1);
    const double s = double(*sumsq.data<T>());
    *scale.data<T>() = T(s > 0.0 ? std::min(1.0, max_norm / std::sqrt(s)) : 1.0);
  }

  void adam(Tensor& w, const Tensor& g, Tensor& m, Tensor& v, const AdamStep& step, const Tensor* grad_scale) override {
    check_dtype("adam", w, DType::real);
    require_shape("adam", "g", g, w.rows(), w.cols());
    require_shape("adam", "m", m, w.rows(), w.cols());
    require_shape("adam", "v", v, w.rows(), w.cols());
    require(step.step >= 1, "adam: the step count starts at 1");
    const T gs = grad_scale ? *grad_scale->data<T>() : T(1);
    // 1 - beta in double: in float, 1 - 0.999f carries a relative error of 6e-5.
    const T b1 = T(step.beta1), b2 = T(step.beta2), eps = T(step.epsilon);
    const T a1 = T(1.0 - step.beta1), a2 = T(1.0 - step.beta2);
    const T c1 = T(1.0 - std::pow(step.beta1, double(step.step)));
    const T c2 = T(1.0 - std::pow(step.beta2, double(step.step)));
    const T lr = T(step.learning_rate);
    T* __restrict W = w.data<T>();
    const T* __restrict G = g.data<T>();
    T* __restrict M = m.data<T>();
    T* __restrict V = v.data<T>();
    parallel_chunks(w.size(), [=](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) {
        const T gi = G[i] * gs;
        M[i] = b1 * M[i] + a1 * gi;
        V[i] = b2 * V[i] + a2 * gi * gi;
        W[i] -= lr * (M[i] / c1) / (std::sqrt(V[i] / c2) + eps);
      }
    });
  }

  void momentum(Tensor& w, const Tensor& g, Tensor& velocity, double learning_rate, double mu,
                const Tensor* grad_scale) override {
    check_dtype("momentum", w, DType::real);
    require_shape("momentum", "g", g, w.rows(), w.cols());
    require_shape("momentum", "velocity", velocity, w.rows(), w.cols());
    const T gs = grad_scale ? *grad_scale->data<T>() : T(1);
    const T lr = T(learning_rate), m = T(mu);
    T* __restrict W = w.data<T>();
    const T* __restrict G = g.data<T>();
    T* __restrict Vel = velocity.data<T>();
    parallel_chunks(w.size(), [=](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) {
        Vel[i] = m * Vel[i] - lr * G[i] * gs;
        W[i] += Vel[i];
      }
    });
  }

 protected:
  void* allocate(std::size_t bytes) override {
    if (bytes == 0) return nullptr;
    void* p = ::operator new(bytes, std::align_val_t(64), std::nothrow);
    require(p != nullptr, name() + ": out of memory allocating " + std::to_string(bytes) + " bytes");
    return p;
  }
  void release(void* p) noexcept override { ::operator delete(p, std::align_val_t(64)); }

 private:
  void check_dtype(const char* op, const Tensor& t, DType dtype) const {
    require(t.dtype() == dtype, std::string(op) + ": a tensor of the wrong element type");
    require(t.backend() == this || t.empty(), std::string(op) + ": a tensor of another backend");
  }

  // Slots naming each expert (kept or dropped), E.
  static std::vector<double> slot_loads(const DevicePlan& plan) {
    std::vector<double> load(plan.experts, 0.0);
    const std::int32_t* se = plan.slot_expert.data<std::int32_t>();
    for (std::size_t i = 0; i < plan.tokens * plan.k; ++i)
      if (se[i] >= 0) load[std::size_t(se[i])] += 1.0;
    return load;
  }

  static kernels::PlanView plan_view(const DevicePlan& plan) {
    kernels::PlanView v;
    v.tokens = plan.tokens;
    v.experts = plan.experts;
    v.k = plan.k;
    v.slot_position = plan.slot_position.data<std::int64_t>();
    v.expert_offsets = plan.expert_offsets.data<std::int64_t>();
    v.sorted_token = plan.sorted_token.data<std::int32_t>();
    return v;
  }

  kernels::ExpertWeights<T> expert_weights(const char* op, const DevicePlan& plan, const ExpertBank& w,
                                           std::size_t d) const {
    const std::size_t E = plan.experts, f = w.b1.rows();
    require(plan.expert_offsets.size() == E + 1, std::string(op) + ": the plan has not been built");
    require_shape(op, "W1", w.W1, f, d * E);
    require_shape(op, "b1", w.b1, f, E);
    require_shape(op, "W2", w.W2, d, f * E);
    require_shape(op, "b2", w.b2, d, E);
    return {d, f, E, w.W1.data<T>(), w.b1.data<T>(), w.W2.data<T>(), w.b2.data<T>()};
  }

  static RoutedCache& routed_cache(std::unique_ptr<OpCache>& cache) {
    if (!cache) cache = std::make_unique<RoutedCache>();
    auto* c = dynamic_cast<RoutedCache*>(cache.get());
    require(c != nullptr, "routed_ffn: a cache made by another op");
    return *c;
  }
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(Precision precision) {
  if (precision == Precision::f64) return std::make_unique<CpuBackend<double>>();
  if (precision == Precision::f32) return std::make_unique<CpuBackend<float>>();
  fail("the cpu backend computes in double or float, not " + precision_name(precision));
}

}  // namespace moe

namespace moe {
namespace {
const BackendRegistration registered{{
    .name = "cpu",
    .help = "host memory, OpenBLAS and OpenMP; float (the fast path) or double (the oracle of every backend)",
    .precisions = {Precision::f32, Precision::f64},
    .unavailable = {},
    .make = make_cpu_backend,
}};
}  // namespace
}  // namespace moe
