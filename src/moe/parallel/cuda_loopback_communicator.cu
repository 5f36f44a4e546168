// The one-GPU loopback DeviceCommunicator (gpu_communicators.hpp): ranks are threads of one process.
#include <cuda_runtime.h>

#include "moe/backend/cuda_device_array.cuh"
#include "moe/parallel/gpu_communicators.hpp"

namespace moe {

namespace {

class CudaLoopbackCommunicator final : public DeviceCommunicator {
 public:
  CudaLoopbackCommunicator(ThreadGroup& group, int rank) : group_(group), rank_(rank) {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) fail("GPU loopback: no CUDA device is visible");
  }
  int rank() const override { return rank_; }
  int size() const override { return group_.size(); }
  std::string transport() const override { return "loopback"; }

 protected:
  // Device-to-device copies at the group's meeting (ThreadGroup::alltoallv), once this rank's queued work
  // (its send buffer) is written, and finished before the second meeting (the senders may then reuse theirs).
  void do_alltoallv(const float* send, const std::vector<std::size_t>& send_counts, float* recv,
                    const std::vector<std::size_t>& recv_counts) override {
    MOE_CUDA(cudaDeviceSynchronize());
    group_.alltoallv(
        rank_, send, send_counts, recv_counts,
        [&](const float* from, std::size_t n, std::size_t at) {
          if (n > 0) MOE_CUDA(cudaMemcpy(recv + at, from, n * sizeof(float), cudaMemcpyDeviceToDevice));
        },
        [] { MOE_CUDA(cudaDeviceSynchronize()); });
  }

 private:
  ThreadGroup& group_;
  int rank_;
};

}  // namespace

std::unique_ptr<DeviceCommunicator> make_cuda_loopback_communicator(ThreadGroup& group, int rank) {
  return std::make_unique<CudaLoopbackCommunicator>(group, rank);
}

}  // namespace moe
