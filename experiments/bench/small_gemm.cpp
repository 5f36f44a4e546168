// The CPU measurements behind the sparse layer's 8 -> 256 experts slowdown (docs/notes/lab-notebook.md, docs/performance.md),
// one core: OpenBLAS sgemm at the shapes of many small experts, C (1024 x n) = W (1024 x 512) X (512 x n) for
// 256 experts, n = 32 ... 1024 tokens per expert,
//   distinct W   each expert its own W (the bytes of a real expert bank)
//   one W        every expert the same W (cache-hot)
//   transposed   C' = X' W' (the small operand as BLAS's A), at n = 32 and 64
//   unpacked     a first AVX-512 kernel that streams W without packing (a 32 x 8 register block, W read
//                column by column at its stride, B broadcast), at n = 32 and 64
// and the machine's copy bandwidth (memcpy of 1 GiB, one thread). Build and run (one line):
//   g++ -O3 -march=native experiments/bench/small_gemm.cpp -I/usr/include/x86_64-linux-gnu/openblas-pthread
//   -lopenblas -o /tmp/small_gemm && /tmp/small_gemm
#include <cblas.h>
#include <immintrin.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

extern "C" void openblas_set_num_threads(int);

namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

#ifdef __AVX512F__
// C (m x n) = A (m x k) B (k x n), column-major, m % 32 == 0, n % 8 == 0, A read in place.
void gemm_unpacked(int m, int n, int k, const float* A, int lda, const float* B, int ldb, float* C, int ldc) {
  for (int r0 = 0; r0 < m; r0 += 32)
    for (int c0 = 0; c0 < n; c0 += 8) {
      __m512 acc[2][8];
      for (int j = 0; j < 8; ++j) acc[0][j] = _mm512_setzero_ps(), acc[1][j] = _mm512_setzero_ps();
      const float* b = B + std::size_t(c0) * ldb;
      for (int p = 0; p < k; ++p) {
        const float* a = A + std::size_t(p) * lda + r0;
        _mm_prefetch(reinterpret_cast<const char*>(a + 8 * std::size_t(lda)), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(a + 8 * std::size_t(lda) + 16), _MM_HINT_T0);
        const __m512 a0 = _mm512_loadu_ps(a), a1 = _mm512_loadu_ps(a + 16);
#pragma GCC unroll 8
        for (int j = 0; j < 8; ++j) {
          const __m512 bj = _mm512_set1_ps(b[p + std::size_t(j) * ldb]);
          acc[0][j] = _mm512_fmadd_ps(a0, bj, acc[0][j]);
          acc[1][j] = _mm512_fmadd_ps(a1, bj, acc[1][j]);
        }
      }
      for (int j = 0; j < 8; ++j) {
        _mm512_storeu_ps(C + std::size_t(c0 + j) * ldc + r0, acc[0][j]);
        _mm512_storeu_ps(C + std::size_t(c0 + j) * ldc + r0 + 16, acc[1][j]);
      }
    }
}
#endif

}  // namespace

int main() {
  openblas_set_num_threads(1);
  const int m = 1024, k = 512, experts = 256;
  for (int n : {32, 64, 256, 1024}) {
    std::vector<float> W(std::size_t(m) * k * experts), X(std::size_t(k) * n), C(std::size_t(m) * n),
        C2(std::size_t(m) * n);
    for (std::size_t i = 0; i < W.size(); ++i) W[i] = float((i * 2654435761u) % 1000) * 1e-3f - 0.5f;
    for (std::size_t i = 0; i < X.size(); ++i) X[i] = float((i * 40503u) % 1000) * 1e-3f - 0.5f;
    auto rate = [&](const char* what, auto product) {
      const auto t0 = Clock::now();
      for (int e = 0; e < experts; ++e) product(W.data() + std::size_t(e) * m * k);
      std::printf("n %4d, %-24s %6.1f GFLOP/s\n", n, what, 2.0 * m * n * k * experts / seconds(t0) * 1e-9);
    };
    rate("distinct W (OpenBLAS)", [&](const float* w) {
      cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.f, w, m, X.data(), k, 0.f, C.data(), m);
    });
    rate("one W, cache-hot", [&](const float*) {
      cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.f, W.data(), m, X.data(), k, 0.f, C.data(),
                  m);
    });
    if (n > 64) continue;
    rate("transposed (X' W')", [&](const float* w) {
      cblas_sgemm(CblasColMajor, CblasTrans, CblasTrans, n, m, k, 1.f, X.data(), k, w, m, 0.f, C2.data(), n);
    });
#ifdef __AVX512F__
    rate("unpacked AVX-512 kernel", [&](const float* w) { gemm_unpacked(m, n, k, w, m, X.data(), k, C2.data(), m); });
    double err = 0, ref = 0;  // the last expert's product, against OpenBLAS's
    cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.f, W.data() + std::size_t(experts - 1) * m * k,
                m, X.data(), k, 0.f, C.data(), m);
    for (std::size_t i = 0; i < C.size(); ++i) err += std::pow(C[i] - C2[i], 2), ref += double(C[i]) * C[i];
    std::printf("        unpacked kernel against OpenBLAS: relative difference %.1e\n", std::sqrt(err / ref));
#endif
  }
  // Copy bandwidth: bytes read + written per second, best of 5 copies of 1 GiB.
  std::vector<char> a(std::size_t(1) << 30, 1), b(a.size());
  double best = 1e30;
  for (int i = 0; i < 5; ++i) {
    const auto t0 = Clock::now();
    std::memcpy(b.data(), a.data(), a.size());
    best = std::min(best, seconds(t0));
  }
  std::printf("memcpy, one thread: %.1f GB/s (read + write)\n", 2.0 * double(a.size()) / best * 1e-9);
}
