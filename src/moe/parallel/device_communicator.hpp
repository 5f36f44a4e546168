#pragma once
// The all-to-all of expert parallelism on GPU buffers: tokens and their gradients move from GPU to GPU
// without a trip through host memory. Implementations: NCCL between processes, one GPU each
// and a loopback between ranks that are threads of one process sharing one GPU (the exchange's logic at
// P > 1 where only one GPU can be had); their makers are in gpu_communicators.hpp. The
// per-expert counts, small and needed on the host for the GEMM shapes, go through the host Communicator.
//
// Buffers are float device pointers, blocks in rank order as in communicator.hpp: rank q's block of `send`
// goes to rank q, rank r's block of `recv` came from rank r; counts in elements. A call is collective
// (every rank makes it, in the same order) and returns when the received data is in `recv`; work queued
// earlier on the legacy default stream is complete before anything is sent.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace moe {

class DeviceCommunicator {
 public:
  virtual ~DeviceCommunicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string transport() const = 0;  // "nccl" | "loopback"

  void alltoallv(const float* send, const std::vector<std::size_t>& send_counts, float* recv,
                 const std::vector<std::size_t>& recv_counts) {
    const auto t0 = std::chrono::steady_clock::now();
    do_alltoallv(send, send_counts, recv, recv_counts);
    seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ++calls_;
  }
  double seconds() const { return seconds_; }  // spent in alltoallv since construction (waiting included)
  std::uint64_t calls() const { return calls_; }

 protected:
  virtual void do_alltoallv(const float* send, const std::vector<std::size_t>& send_counts, float* recv,
                            const std::vector<std::size_t>& recv_counts) = 0;

 private:
  double seconds_ = 0.0;
  std::uint64_t calls_ = 0;
};

}  // namespace moe
