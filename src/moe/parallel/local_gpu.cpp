#include <cstdlib>

#include "moe/parallel/gpu_communicators.hpp"
#include "moe/sparse/kernels/cuda_sparse_ffn.hpp"

namespace moe {

int local_gpu(const Communicator& comm) {
  const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_RANK");
  const int rank = local ? std::atoi(local) : comm.rank();
  const int count = kernels::cuda_device_count();
  return count > 0 ? rank % count : 0;
}

}  // namespace moe
