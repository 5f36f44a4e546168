// The NCCL DeviceCommunicator (gpu_communicators.hpp), or, in a CUDA build without NCCL, makers that say so.
#include "moe/parallel/gpu_communicators.hpp"

#ifdef MOE_HAVE_NCCL
#include <cuda_runtime.h>
#include <nccl.h>

#include <cstring>

#include "moe/backend/cuda_device_array.cuh"

namespace moe {

namespace {

void check_nccl(ncclResult_t status, const char* what) {
  if (status != ncclSuccess)
    fail(std::string("NCCL: ") + what + ": " + ncclGetErrorString(status) + " (" + ncclGetLastError(nullptr) + ")");
}

class NcclCommunicator final : public DeviceCommunicator {
 public:
  NcclCommunicator(Communicator& host, int device) : rank_(host.rank()), size_(host.size()) {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) fail("NCCL: no CUDA device is visible");
    require(device >= 0 && device < count, "NCCL: rank " + std::to_string(rank_) + " asked for CUDA device " +
                                               std::to_string(device) + " of " + std::to_string(count));
    MOE_CUDA(cudaSetDevice(device));
    // Rank 0's unique id to everyone, as 64-bit words through the host communicator, with a status word
    // first: a failure on rank 0 reaches every rank instead of leaving them in the allgather.
    static_assert(sizeof(ncclUniqueId) % sizeof(std::int64_t) == 0);
    constexpr std::size_t words = 1 + sizeof(ncclUniqueId) / sizeof(std::int64_t);
    ncclUniqueId id{};
    const ncclResult_t made = rank_ == 0 ? ncclGetUniqueId(&id) : ncclSuccess;
    std::vector<std::int64_t> mine(words), all(words * std::size_t(size_));
    mine[0] = std::int64_t(made);
    std::memcpy(mine.data() + 1, &id, sizeof id);
    host.allgather(mine.data(), words, all.data());
    check_nccl(ncclResult_t(all[0]), "ncclGetUniqueId (rank 0)");
    std::memcpy(&id, all.data() + 1, sizeof id);
    // A blocking stream: it waits for the legacy default stream, where the layer's kernels run.
    MOE_CUDA(cudaStreamCreate(&stream_));
    const ncclResult_t init = ncclCommInitRank(&comm_, size_, id, rank_);
    if (init != ncclSuccess) {
      cudaStreamDestroy(stream_);
      check_nccl(init, "ncclCommInitRank");
    }
  }
  ~NcclCommunicator() override {
    cudaStreamDestroy(stream_);
    ncclCommDestroy(comm_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string transport() const override { return "nccl"; }

 protected:
  void do_alltoallv(const float* send, const std::vector<std::size_t>& send_counts, float* recv,
                    const std::vector<std::size_t>& recv_counts) override {
    require(send_counts.size() == std::size_t(size_) && recv_counts.size() == std::size_t(size_),
            "NCCL: alltoallv needs one count per rank");
    check_nccl(ncclGroupStart(), "ncclGroupStart");
    // The group is always ended; the first failure inside it is reported after.
    ncclResult_t status = ncclSuccess;
    const char* what = "";
    std::size_t out = 0, in = 0;
    for (int q = 0; q < size_ && status == ncclSuccess; ++q) {
      const std::size_t ns = send_counts[std::size_t(q)], nr = recv_counts[std::size_t(q)];
      if (ns > 0) status = ncclSend(send + out, ns, ncclFloat32, q, comm_, stream_), what = "ncclSend";
      if (nr > 0 && status == ncclSuccess) status = ncclRecv(recv + in, nr, ncclFloat32, q, comm_, stream_), what = "ncclRecv";
      out += ns, in += nr;
    }
    const ncclResult_t ended = ncclGroupEnd();
    check_nccl(status, what);
    check_nccl(ended, "ncclGroupEnd");
    MOE_CUDA(cudaStreamSynchronize(stream_));
  }

 private:
  int rank_, size_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
};

}  // namespace

bool nccl_built() { return true; }

std::unique_ptr<DeviceCommunicator> make_nccl_communicator(Communicator& host, int device) {
  return std::make_unique<NcclCommunicator>(host, device);
}

}  // namespace moe

#else

namespace moe {

bool nccl_built() { return false; }

std::unique_ptr<DeviceCommunicator> make_nccl_communicator(Communicator&, int) {
  fail("this build has no NCCL (configure with -DMOE_CUDA=ON -DMOE_NCCL=ON, NCCL_ROOT pointing at nccl.h and libnccl)");
}

}  // namespace moe

#endif
