// Expert parallelism with P = 2 and 4 ranks in one process (ThreadGroup): the host collectives against
// their definitions, and the layer against the one-process layer, in every build (no MPI, no GPU).
#include <doctest/doctest.h>

#include <atomic>

#include "moe/parallel/thread_group.hpp"
#include "moe/core/error.hpp"

using namespace moe;

TEST_CASE("thread-group collectives: allreduce, allgather, alltoall, alltoallv") {
  for (const int P : {1, 2, 3, 4}) {
    CAPTURE(P);
    ThreadGroup group(P);
    group.run([&](int r) {
      ThreadGroupCommunicator comm(group, r);
      CHECK(comm.size() == P);
      double x[2] = {double(r + 1), 0.5};
      comm.allreduce_sum(x, 2);
      CHECK(x[0] == double(P * (P + 1) / 2));
      CHECK(x[1] == 0.5 * P);
      const std::int64_t mine[2] = {r, 10 * r};
      std::vector<std::int64_t> all(2 * std::size_t(P));
      comm.allgather(mine, 2, all.data());
      for (int q = 0; q < P; ++q) CHECK((all[2 * q] == q && all[2 * q + 1] == 10 * q));
      // alltoall: rank r sends 100 r + q to rank q.
      const std::size_t ranks = std::size_t(P);
      std::vector<std::int64_t> out(ranks), in(ranks);
      for (int q = 0; q < P; ++q) out[std::size_t(q)] = 100 * r + q;
      comm.alltoall(out.data(), 1, in.data());
      for (int q = 0; q < P; ++q) CHECK(in[std::size_t(q)] == 100 * q + r);
      // alltoallv: rank r sends (r + q) % 3 values, each 1000 r + q, to rank q.
      std::vector<std::size_t> sc(ranks), rc(ranks);
      std::vector<double> send, expect;
      for (int q = 0; q < P; ++q) {
        sc[std::size_t(q)] = std::size_t((r + q) % 3), rc[std::size_t(q)] = std::size_t((q + r) % 3);
        for (std::size_t i = 0; i < sc[std::size_t(q)]; ++i) send.push_back(1000.0 * r + q);
        for (std::size_t i = 0; i < rc[std::size_t(q)]; ++i) expect.push_back(1000.0 * q + r);
      }
      std::vector<double> recv(expect.size(), -1.0);
      comm.alltoallv(send.data(), sc, recv.data(), rc);
      CHECK(recv == expect);
    });
  }
}

TEST_CASE("thread group: a rank that fails ends the others' waits with an error, not a hang") {
  ThreadGroup group(3);
  std::atomic<int> reached{0};
  CHECK_THROWS_WITH_AS(group.run([&](int r) {
                         ThreadGroupCommunicator comm(group, r);
                         if (r == 1) fail("rank 1 broke");
                         double x = 1;
                         comm.allreduce_sum(&x, 1);  // never completes: rank 1 is gone
                         ++reached;
                       }),
                       "rank 1 broke", moe::Error);
  CHECK(reached == 0);
}

TEST_CASE("thread group: a rank that returns while another waits in a collective is an error, not a hang") {
  ThreadGroup group(2);
  CHECK_THROWS_WITH_AS(group.run([&](int r) {
                         ThreadGroupCommunicator comm(group, r);
                         if (r == 1) return;  // skips the collective rank 0 makes
                         double x = 1;
                         comm.allreduce_sum(&x, 1);
                       }),
                       "thread group: a rank returned while the others waited in a collective", moe::Error);
}

TEST_CASE("thread-group alltoallv: counts the sender and the receiver disagree on are an error naming both") {
  ThreadGroup group(2);
  CHECK_THROWS_WITH_AS(group.run([&](int r) {
                         ThreadGroupCommunicator comm(group, r);
                         const std::vector<double> send(4, 1.0);
                         std::vector<double> recv(4);
                         // Rank 0 sends 2 values to rank 1, which expects 1.
                         const std::vector<std::size_t> sc{2, 2}, rc = r == 1 ? std::vector<std::size_t>{1, 2}
                                                                             : std::vector<std::size_t>{2, 2};
                         comm.alltoallv(send.data(), sc, recv.data(), rc);
                       }),
                       "alltoallv: rank 0 sends 2 values to rank 1, which expects 1", moe::Error);
}
