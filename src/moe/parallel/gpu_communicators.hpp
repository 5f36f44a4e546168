#pragma once
// Makers of the DeviceCommunicator implementations (device_communicator.hpp). Each throws moe::Error with
// one line when the build or the machine lacks what it needs.
#include <memory>
#include <string>

#include "moe/parallel/communicator.hpp"
#include "moe/parallel/device_communicator.hpp"
#include "moe/parallel/thread_group.hpp"

namespace moe {

bool nccl_built();  // compiled with NCCL (-DMOE_NCCL=ON, which needs -DMOE_CUDA=ON)

// NCCL between the ranks of `host` (one process per GPU, started by mpirun): the communicator's unique id
// is made by rank 0 and shared through host.allgather; this process works on CUDA device `device`
// (selected here, before anything else touches the GPU). Point-to-point ncclSend / ncclRecv in one group
// per all-to-all, on a stream of its own.
std::unique_ptr<DeviceCommunicator> make_nccl_communicator(Communicator& host, int device);

// Expert parallelism with --device cuda (collective): selects this rank's GPU (local_gpu) and returns how
// the routed tokens travel between the ranks: NCCL for `how` "nccl", or for "auto" when the build has NCCL
// and no host has more ranks than GPUs (decided alike on every rank; otherwise a warning); null (the host
// Communicator moves them) for "host" or when "auto" cannot use NCCL. "nccl" on a crowded host is an error.
std::unique_ptr<DeviceCommunicator> make_gpu_exchange(Communicator& comm, const std::string& how);

// This process's GPU under mpirun, one process per GPU: its rank among the processes of its host
// (OpenMPI's OMPI_COMM_WORLD_LOCAL_RANK, else the rank) modulo the visible devices.
int local_gpu(const Communicator& comm);

// Rank `rank` of a ThreadGroup whose ranks share this process's GPU: alltoallv copies device to device at
// the group's barrier. For testing the exchange at P > 1 on one GPU (NCCL refuses two ranks on one).
std::unique_ptr<DeviceCommunicator> make_cuda_loopback_communicator(ThreadGroup& group, int rank);

}  // namespace moe
