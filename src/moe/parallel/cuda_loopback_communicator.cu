// The one-GPU loopback DeviceCommunicator (gpu_communicators.hpp): ranks are threads of one process.
#include <cuda_runtime.h>

#include <exception>

#include "moe/parallel/gpu_communicators.hpp"
#include "moe/sparse/kernels/cuda_device_array.cuh"

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
  // Publish, meet, copy from every rank's send buffer, wait for the copies, meet again (the senders may
  // then reuse their buffers).
  void do_alltoallv(const float* send, const std::vector<std::size_t>& send_counts, float* recv,
                    const std::vector<std::size_t>& recv_counts) override {
    require(send_counts.size() == std::size_t(size()) && recv_counts.size() == std::size_t(size()),
            "GPU loopback: alltoallv needs one count per rank");
    MOE_CUDA(cudaDeviceSynchronize());  // what this rank queued before (its send buffer) is written
    group_.slot(rank_) = {send, &send_counts};
    group_.wait();
    // A failure is raised only after the second meeting: until then others may read this rank's buffers.
    std::exception_ptr error;
    try {
      std::size_t at = 0;
      for (int r = 0; r < size(); ++r) {
        const ThreadGroup::Block b = group_.block(r, rank_, recv_counts[std::size_t(r)]);
        if (b.count > 0)
          MOE_CUDA(cudaMemcpy(recv + at, static_cast<const float*>(group_.slot(r).send) + b.offset,
                              b.count * sizeof(float), cudaMemcpyDeviceToDevice));
        at += b.count;
      }
      MOE_CUDA(cudaDeviceSynchronize());  // the copies are done before any sender reuses its buffer
    } catch (...) {
      error = std::current_exception();
    }
    group_.wait();
    if (error) std::rethrow_exception(error);
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
