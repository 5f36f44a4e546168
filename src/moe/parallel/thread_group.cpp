#include "moe/parallel/thread_group.hpp"

#include <algorithm>

#include "moe/core/error.hpp"

namespace moe {

// Every collective: publish, meet, read the others' buffers, meet again (nobody reuses a buffer another
// rank may still be reading).

void ThreadGroupCommunicator::do_allreduce_sum(double* x, std::size_t n) {
  group_.slot(rank_).send = x;
  group_.wait();
  std::vector<double> sum(n, 0.0);  // in rank order on every rank: the same rounding everywhere
  for (int r = 0; r < size(); ++r) {
    const double* from = static_cast<const double*>(group_.slot(r).send);
    for (std::size_t i = 0; i < n; ++i) sum[i] += from[i];
  }
  group_.wait();
  std::copy(sum.begin(), sum.end(), x);
}

void ThreadGroupCommunicator::do_allgather(const std::int64_t* x, std::size_t n, std::int64_t* out) {
  group_.slot(rank_).send = x;
  group_.wait();
  for (int r = 0; r < size(); ++r) {
    const auto* from = static_cast<const std::int64_t*>(group_.slot(r).send);
    std::copy(from, from + n, out + std::size_t(r) * n);
  }
  group_.wait();
}

void ThreadGroupCommunicator::do_alltoall(const std::int64_t* send, std::size_t n, std::int64_t* recv) {
  group_.slot(rank_).send = send;
  group_.wait();
  for (int r = 0; r < size(); ++r) {
    const auto* from = static_cast<const std::int64_t*>(group_.slot(r).send) + std::size_t(rank_) * n;
    std::copy(from, from + n, recv + std::size_t(r) * n);
  }
  group_.wait();
}

void ThreadGroupCommunicator::do_alltoallv(const double* send, const std::vector<std::size_t>& send_counts,
                                           double* recv, const std::vector<std::size_t>& recv_counts) {
  group_.alltoallv(
      rank_, send, send_counts, recv_counts,
      [&](const double* from, std::size_t n, std::size_t at) { std::copy(from, from + n, recv + at); }, [] {});
}

}  // namespace moe
