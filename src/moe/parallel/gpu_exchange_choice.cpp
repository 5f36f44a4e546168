// Which GPU a rank uses and how its tokens travel (gpu_communicators.hpp).
#include <cstdlib>

#include "moe/backend/cuda_device.hpp"
#include "moe/core/error.hpp"
#include "moe/core/warning.hpp"
#include "moe/parallel/gpu_communicators.hpp"

namespace moe {

namespace {

// Ranks on this host: OpenMPI's OMPI_COMM_WORLD_LOCAL_SIZE, else all of them (one host).
int local_ranks(const Communicator& comm) {
  const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  return local ? std::atoi(local) : comm.size();
}

}  // namespace

int local_gpu(const Communicator& comm) {
  const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_RANK");
  const int rank = local ? std::atoi(local) : comm.rank();
  const int count = kernels::cuda_device_count();
  return count > 0 ? rank % count : 0;
}

std::unique_ptr<DeviceCommunicator> make_gpu_exchange(Communicator& comm, const std::string& how) {
  require(how == "auto" || how == "host" || how == "nccl",
          "MOE_GPU_EXCHANGE / --gpu-exchange must be auto, host or nccl (got '" + how + "')");
  kernels::cuda_set_device(local_gpu(comm));
  double crowded = local_ranks(comm) > kernels::cuda_device_count() ? 1.0 : 0.0;  // some host shares a GPU
  comm.allreduce_sum(&crowded, 1);
  if (how == "host") return nullptr;
  if (how == "auto" && !nccl_built()) return nullptr;
  if (crowded > 0) {
    require(how == "auto", "NCCL needs a GPU for each rank, and a host has more ranks than GPUs");
    if (comm.rank() == 0)
      warn("gpu-exchange-host", "a host has more ranks than GPUs, which NCCL cannot serve: the all-to-all goes "
                                "through the host");
    return nullptr;
  }
  return make_nccl_communicator(comm, local_gpu(comm));
}

}  // namespace moe
