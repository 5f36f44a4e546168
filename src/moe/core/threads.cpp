#include "moe/core/threads.hpp"

#ifdef MOE_HAVE_OPENMP
#include <omp.h>
#endif

extern "C" void openblas_set_num_threads(int);
extern "C" int openblas_get_num_threads(void);

namespace moe {

void set_threads(int threads) {
  if (threads <= 0) return;
#ifdef MOE_HAVE_OPENMP
  omp_set_num_threads(threads);
#endif
  openblas_set_num_threads(threads);
}

int max_threads() {
#ifdef MOE_HAVE_OPENMP
  return omp_get_max_threads();
#else
  return openblas_get_num_threads();
#endif
}

}  // namespace moe
