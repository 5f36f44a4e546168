#include "moe/core/threads.hpp"

#include <malloc.h>
#include <sched.h>

#include <vector>

#include <armadillo>

#ifdef MOE_HAVE_OPENMP
#include <omp.h>
#endif

extern "C" void openblas_set_num_threads(int);

namespace moe {

void set_threads(int threads) {
  // glibc returns freed blocks above 128 KiB to the kernel (mmap / trim), so each K x N temporary of an
  // epoch was fresh memory again, page faults and zeroing included: about a third of an EM iteration on
  // 20000 points (docs/notes/lab-notebook.md). Keep freed memory in the heap instead.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  openblas_set_num_threads(1);
#ifdef MOE_HAVE_OPENMP
  if (threads > 0) omp_set_num_threads(threads);
  // Start the thread team now, not inside the first timed epoch, and give each thread its own core when
  // there are enough: OpenMP's threads spin while they wait, and a worker that the kernel first places on
  // the master's core takes its time slices until the load balancer moves it (measured on the 2-core VM:
  // the first EM iteration took 85 ms instead of 2.5 ms in about half of the runs).
  cpu_set_t allowed;
  const bool have_mask = sched_getaffinity(0, sizeof allowed, &allowed) == 0;
  std::vector<int> cpus;
  for (int c = 0; have_mask && c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &allowed)) cpus.push_back(c);
#pragma omp parallel
  {
    const int n = omp_get_num_threads(), t = omp_get_thread_num();
    if (n > 1 && std::size_t(n) <= cpus.size()) {
      cpu_set_t mine;
      CPU_ZERO(&mine);
      CPU_SET(cpus[std::size_t(t)], &mine);
      sched_setaffinity(0, sizeof mine, &mine);  // 0: the calling thread
    }
    // Each thread's first LAPACK call sets up OpenBLAS's per-thread buffers: do it here too.
    const arma::mat A = {{2.0, 1.0}, {1.0, 2.0}};
    arma::vec x;
    (void)arma::solve(x, A, arma::vec{1.0, 1.0}, arma::solve_opts::likely_sympd);
  }
#else
  (void)threads;
#endif
}

int max_threads() {
#ifdef MOE_HAVE_OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

BlasThreadsScope::BlasThreadsScope(int threads) { openblas_set_num_threads(threads); }
BlasThreadsScope::~BlasThreadsScope() { openblas_set_num_threads(1); }

}  // namespace moe
