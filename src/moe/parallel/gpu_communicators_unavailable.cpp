// The GPU communicators in a build without CUDA: each maker says so (one clear error, no crash).
#ifndef MOE_HAVE_CUDA
#include "moe/parallel/gpu_communicators.hpp"

namespace moe {

bool nccl_built() { return false; }

std::unique_ptr<DeviceCommunicator> make_nccl_communicator(Communicator&, int) {
  fail("this build has no CUDA backend, so no NCCL (configure with -DMOE_CUDA=ON -DMOE_NCCL=ON)");
}

std::unique_ptr<DeviceCommunicator> make_cuda_loopback_communicator(ThreadGroup&, int) {
  fail("this build has no CUDA backend (configure with -DMOE_CUDA=ON on a machine with the CUDA toolkit)");
}

}  // namespace moe
#endif
