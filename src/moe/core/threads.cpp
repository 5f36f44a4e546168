#include "moe/core/threads.hpp"

#ifdef MOE_HAVE_OPENMP
#include <omp.h>
#endif

extern "C" void openblas_set_num_threads(int);

namespace moe {

void set_threads(int threads) {
  openblas_set_num_threads(1);
#ifdef MOE_HAVE_OPENMP
  if (threads > 0) omp_set_num_threads(threads);
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

}  // namespace moe
