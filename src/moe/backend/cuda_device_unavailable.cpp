// The CUDA device basics (cuda_device.hpp) in a build without CUDA: no device, and asking for one says so.
#ifndef MOE_HAVE_CUDA
#include "moe/backend/cuda_device.hpp"
#include "moe/core/error.hpp"

namespace moe::kernels {

bool cuda_built() { return false; }
int cuda_device_count() { return 0; }
std::string cuda_device_name() { return ""; }
void cuda_set_device(int) { fail_without_cuda(); }
void fail_without_cuda() {
  fail("this build has no CUDA backend (configure with -DMOE_CUDA=ON on a machine with the CUDA toolkit)");
}

}  // namespace moe::kernels
#endif
