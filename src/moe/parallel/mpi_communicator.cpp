#include "moe/parallel/mpi_communicator.hpp"

#include "moe/core/error.hpp"

#ifdef MOE_HAVE_MPI
#include <mpi.h>

#include <climits>
#include <cstdlib>
#include <string>

namespace moe {

namespace {

void check(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  fail(std::string("MPI: ") + what + " failed: " + std::string(text, std::size_t(length)));
}

int as_count(std::size_t n) {
  require(n <= std::size_t(INT_MAX), "MPI: a message of " + std::to_string(n) + " values is beyond MPI's int counts");
  return int(n);
}

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }

 protected:
  void do_allreduce_sum(double* x, std::size_t n) override {
    check(MPI_Allreduce(MPI_IN_PLACE, x, as_count(n), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
  }
  void do_allgather(const std::int64_t* x, std::size_t n, std::int64_t* out) override {
    check(MPI_Allgather(x, as_count(n), MPI_INT64_T, out, as_count(n), MPI_INT64_T, MPI_COMM_WORLD), "MPI_Allgather");
  }
  void do_alltoall(const std::int64_t* send, std::size_t n, std::int64_t* recv) override {
    check(MPI_Alltoall(send, as_count(n), MPI_INT64_T, recv, as_count(n), MPI_INT64_T, MPI_COMM_WORLD), "MPI_Alltoall");
  }
  void do_alltoallv(const double* send, const std::vector<std::size_t>& send_counts, double* recv,
                    const std::vector<std::size_t>& recv_counts) override {
    const auto P = static_cast<std::size_t>(size_);
    std::vector<int> sc(P), sd(P), rc(P), rd(P);
    std::size_t s_at = 0, r_at = 0;
    for (std::size_t q = 0; q < P; ++q) {
      sc[q] = as_count(send_counts[q]), sd[q] = as_count(s_at), s_at += send_counts[q];
      rc[q] = as_count(recv_counts[q]), rd[q] = as_count(r_at), r_at += recv_counts[q];
    }
    check(MPI_Alltoallv(send, sc.data(), sd.data(), MPI_DOUBLE, recv, rc.data(), rd.data(), MPI_DOUBLE, MPI_COMM_WORLD),
          "MPI_Alltoallv");
  }

 private:
  int rank_ = 0, size_ = 1;
};

}  // namespace

bool mpi_built() { return true; }

MpiSession::MpiSession(int* argc, char*** argv) {
  int provided = 0;
  check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  // Errors come back as codes (turned into moe::Error), not as an abort inside the library.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}

MpiSession::~MpiSession() { MPI_Finalize(); }

void MpiSession::abort(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);  // not reached: MPI_Abort does not return
}

std::unique_ptr<Communicator> make_world_communicator() { return std::make_unique<MpiCommunicator>(); }

}  // namespace moe

#else  // a build without MPI: each entry point says so

#include <cstdlib>

namespace moe {

namespace {
[[noreturn]] void no_mpi() {
  fail("this build has no MPI (install libopenmpi-dev and rebuild; CMake then finds it, option MOE_MPI)");
}
}  // namespace

bool mpi_built() { return false; }
MpiSession::MpiSession(int*, char***) { no_mpi(); }
MpiSession::~MpiSession() = default;
void MpiSession::abort(int code) { std::exit(code); }
std::unique_ptr<Communicator> make_world_communicator() { no_mpi(); }

}  // namespace moe

#endif
