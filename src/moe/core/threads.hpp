#pragma once
// One place that sets the thread count, so OpenMP and OpenBLAS never oversubscribe the cores.
// Policy: the library parallelises explicitly with OpenMP (over experts, over column blocks) and calls
// BLAS single-threaded. Measured on 2 cores (experiments/bench/epoch_time.sh, 4 linear-Gaussian experts,
// 20000 points): OpenMP over experts with a 2-thread OpenBLAS inside took 22 ms per epoch against 4.7 ms
// with one thread, because OpenBLAS's spinning workers compete with the OpenMP team.
namespace moe {
// threads <= 0: OpenMP's default (all cores); BLAS always 1. Also the process's allocator policy: freed
// memory stays in the heap for the next epoch's temporaries (glibc mallopt).
void set_threads(int threads);
int max_threads();

// OpenBLAS's own threads, `threads` of them, for one scope (a dense reference measurement); back to the
// policy's single BLAS thread when the scope ends, also on an exception.
class BlasThreadsScope {
 public:
  explicit BlasThreadsScope(int threads);
  ~BlasThreadsScope();
  BlasThreadsScope(const BlasThreadsScope&) = delete;
  BlasThreadsScope& operator=(const BlasThreadsScope&) = delete;
};
}  // namespace moe
