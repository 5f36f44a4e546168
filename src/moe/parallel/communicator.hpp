#pragma once
// The collective operations expert parallelism needs, between P processes ("ranks") that each run the
// same program: an interface with an MPI implementation (mpi_communicator.hpp, OpenMPI from Debian) and
// a one-process one (SelfCommunicator below); a NCCL implementation fills the same five calls for GPU
// buffers. Every rank must make the same calls in the same order (they are collective).
//
// Buffers are contiguous in rank order. For alltoall / alltoallv, rank q's block of `send` goes to rank q,
// and rank r's block of `recv` came from rank r; counts are in elements.
// Each call's wall time (waiting for the slowest rank included) is added to seconds(), so a training
// step can report how long it spent communicating.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace moe {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;

  // x (n values) becomes its sum over the ranks, the same on every rank.
  void allreduce_sum(double* x, std::size_t n) { timed([&] { do_allreduce_sum(x, n); }); }
  // Every rank gives n values; out (size() * n) receives them in rank order.
  void allgather(const std::int64_t* x, std::size_t n, std::int64_t* out) { timed([&] { do_allgather(x, n, out); }); }
  // n values to every rank: send and recv hold size() * n.
  void alltoall(const std::int64_t* send, std::size_t n, std::int64_t* recv) {
    timed([&] { do_alltoall(send, n, recv); });
  }
  // send_counts[q] values to rank q, recv_counts[r] values from rank r (size() entries each; what rank r
  // sends to q must equal what q expects from r).
  void alltoallv(const double* send, const std::vector<std::size_t>& send_counts, double* recv,
                 const std::vector<std::size_t>& recv_counts) {
    timed([&] { do_alltoallv(send, send_counts, recv, recv_counts); });
  }

  double seconds() const { return seconds_; }  // spent in the calls above since construction
  std::uint64_t calls() const { return calls_; }

 protected:
  virtual void do_allreduce_sum(double* x, std::size_t n) = 0;
  virtual void do_allgather(const std::int64_t* x, std::size_t n, std::int64_t* out) = 0;
  virtual void do_alltoall(const std::int64_t* send, std::size_t n, std::int64_t* recv) = 0;
  virtual void do_alltoallv(const double* send, const std::vector<std::size_t>& send_counts, double* recv,
                            const std::vector<std::size_t>& recv_counts) = 0;

 private:
  template <class F>
  void timed(F f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ++calls_;
  }
  double seconds_ = 0.0;
  std::uint64_t calls_ = 0;
};

// One rank: every collective is a copy. The expert-parallel layer with P = 1.
class SelfCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }

 protected:
  void do_allreduce_sum(double*, std::size_t) override {}
  void do_allgather(const std::int64_t* x, std::size_t n, std::int64_t* out) override { std::copy(x, x + n, out); }
  void do_alltoall(const std::int64_t* send, std::size_t n, std::int64_t* recv) override {
    std::copy(send, send + n, recv);
  }
  void do_alltoallv(const double* send, const std::vector<std::size_t>& send_counts, double* recv,
                    const std::vector<std::size_t>&) override {
    std::copy(send, send + send_counts[0], recv);
  }
};

}  // namespace moe
