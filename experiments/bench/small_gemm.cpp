// OpenBLAS sgemm on one core at the shapes of many small experts: C (1024 x n) = W (1024 x 512) X (512 x n)
// for 256 experts, each with its own W (the bytes of a real expert bank) or all with the same W (cache-hot),
// n = 32 ... 1024 tokens per expert. Explains why the sparse layer slows from 8 to 256 experts on the CPU
// (NOTES.md). Build and run:
//   g++ -O2 experiments/bench/small_gemm.cpp -I/usr/include/x86_64-linux-gnu/openblas-pthread -lopenblas \
//     -o /tmp/small_gemm && /tmp/small_gemm
#include <cblas.h>

#include <chrono>
#include <cstdio>
#include <vector>

extern "C" void openblas_set_num_threads(int);

int main() {
  openblas_set_num_threads(1);
  const int m = 1024, k = 512, experts = 256;
  for (int n : {32, 64, 256, 1024}) {
    std::vector<float> W(std::size_t(m) * k * experts, 0.01f), X(std::size_t(k) * n, 0.02f), C(std::size_t(m) * n);
    for (int same : {0, 1}) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int e = 0; e < experts; ++e)
        cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.f,
                    W.data() + (same ? 0 : std::size_t(e) * m * k), m, X.data(), k, 0.f, C.data(), m);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("n %4d, %s: %.1f GFLOP/s\n", n, same ? "one W, cache-hot" : "256 distinct W  ",
                  2.0 * m * n * k * experts / s * 1e-9);
    }
  }
}
