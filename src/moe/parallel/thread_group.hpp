#pragma once
// P ranks as threads of one process: the host collectives of communicator.hpp by copying between the
// ranks' buffers at a barrier. The expert-parallel layer runs at P > 1 this way without MPI (tests). If one
// rank throws, the group is aborted: the others' waits throw too instead of hanging.
#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "moe/core/error.hpp"
#include "moe/parallel/communicator.hpp"

namespace moe {

class ThreadGroup {
 public:
  explicit ThreadGroup(int ranks);
  int size() const { return int(slots_.size()); }

  // What a rank shows the others for the collective in progress.
  struct Slot {
    const void* send = nullptr;
    const std::vector<std::size_t>* send_counts = nullptr;
  };
  Slot& slot(int rank) { return slots_[std::size_t(rank)]; }
  // alltoallv: where the block that `sender` published for `receiver` starts in its send buffer, and its
  // length (elements), checked against what the receiver expects.
  struct Block {
    std::size_t offset = 0, count = 0;
  };
  Block block(int sender, int receiver, std::size_t expected) {
    const std::vector<std::size_t>& counts = *slot(sender).send_counts;
    Block b;
    for (int q = 0; q < receiver; ++q) b.offset += counts[std::size_t(q)];
    b.count = counts[std::size_t(receiver)];
    require(b.count == expected, "alltoallv: rank " + std::to_string(sender) + " sends " + std::to_string(b.count) +
                                     " values to rank " + std::to_string(receiver) + ", which expects " +
                                     std::to_string(expected));
    return b;
  }
  void wait();   // the barrier; throws moe::Error once the group is aborted
  void abort();  // wakes every waiting rank with an error

  // alltoallv as rank `rank`: publishes send and send_counts, meets the others, then for every sender r
  // calls copy(from, count, at): r's block for this rank (from: a T* into r's send buffer), to go at element
  // `at` of this rank's receive buffer; then after(); then meets again. A failure in the copies is raised
  // only after the second meeting: until then other ranks may be reading this rank's buffers, which
  // unwinding would free.
  template <class T, class Copy, class After>
  void alltoallv(int rank, const T* send, const std::vector<std::size_t>& send_counts,
                 const std::vector<std::size_t>& recv_counts, Copy copy, After after);

  // Runs body(rank) on size() threads and joins them; rethrows the first exception a rank threw.
  void run(const std::function<void(int rank)>& body);

 private:
  std::vector<Slot> slots_;
  std::mutex mutex_;
  std::condition_variable changed_;
  int arrived_ = 0;
  std::uint64_t generation_ = 0;
  bool aborted_ = false;
  int departed_ = 0;  // ranks whose body returned: a wait can then never complete
};

inline ThreadGroup::ThreadGroup(int ranks) : slots_(std::size_t(std::max(ranks, 0))) {
  require(ranks >= 1, "thread group: needs at least one rank");
}

inline void ThreadGroup::wait() {
  std::unique_lock lock(mutex_);
  if (aborted_) fail("thread group: another rank failed");
  if (departed_ > 0) fail("thread group: a rank returned while the others waited in a collective");
  const std::uint64_t mine = generation_;
  if (++arrived_ == size()) {
    arrived_ = 0;
    ++generation_;
    changed_.notify_all();
    return;
  }
  changed_.wait(lock, [&] { return generation_ != mine || aborted_ || departed_ > 0; });
  if (generation_ == mine) {
    --arrived_;
    fail(aborted_ ? "thread group: another rank failed"
                  : "thread group: a rank returned while the others waited in a collective");
  }
}

inline void ThreadGroup::abort() {
  std::lock_guard lock(mutex_);
  aborted_ = true;
  changed_.notify_all();
}

inline void ThreadGroup::run(const std::function<void(int)>& body) {
  {
    std::lock_guard lock(mutex_);
    arrived_ = departed_ = 0;
    aborted_ = false;
  }
  std::exception_ptr first;  // the first rank to fail; the others then fail in wait() because of it
  std::mutex first_mutex;
  std::vector<std::thread> threads;
  for (int r = 0; r < size(); ++r)
    threads.emplace_back([&, r] {
      try {
        body(r);
        std::lock_guard lock(mutex_);
        ++departed_;
        changed_.notify_all();
      } catch (...) {
        {
          std::lock_guard lock(first_mutex);
          if (!first) first = std::current_exception();
        }
        abort();
      }
    });
  for (std::thread& t : threads) t.join();
  if (first) std::rethrow_exception(first);
}

template <class T, class Copy, class After>
void ThreadGroup::alltoallv(int rank, const T* send, const std::vector<std::size_t>& send_counts,
                            const std::vector<std::size_t>& recv_counts, Copy copy, After after) {
  require(send_counts.size() == std::size_t(size()) && recv_counts.size() == std::size_t(size()),
          "thread group: alltoallv needs one count per rank");
  slot(rank) = {send, &send_counts};
  wait();
  std::exception_ptr error;
  try {
    std::size_t at = 0;
    for (int r = 0; r < size(); ++r) {
      const Block b = block(r, rank, recv_counts[std::size_t(r)]);
      copy(static_cast<const T*>(slot(r).send) + b.offset, b.count, at);
      at += b.count;
    }
    after();
  } catch (...) {
    error = std::current_exception();
  }
  wait();
  if (error) std::rethrow_exception(error);
}

class ThreadGroupCommunicator final : public Communicator {
 public:
  ThreadGroupCommunicator(ThreadGroup& group, int rank) : group_(group), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return group_.size(); }

 protected:
  void do_allreduce_sum(double* x, std::size_t n) override;
  void do_allgather(const std::int64_t* x, std::size_t n, std::int64_t* out) override;
  void do_alltoall(const std::int64_t* send, std::size_t n, std::int64_t* recv) override;
  void do_alltoallv(const double* send, const std::vector<std::size_t>& send_counts, double* recv,
                    const std::vector<std::size_t>& recv_counts) override;

 private:
  ThreadGroup& group_;
  int rank_;
};

}  // namespace moe
