#pragma once
// The Communicator over MPI (OpenMPI from Debian's libopenmpi-dev): MPI_Allreduce, MPI_Allgather,
// MPI_Alltoall and MPI_Alltoallv on MPI_COMM_WORLD. Built when CMake finds MPI (option MOE_MPI); without
// it, mpi_built() is false and the functions below throw moe::Error saying so.
// mpi.h stays out of this header, so the library's other files compile the same either way.
#include <memory>

#include "moe/parallel/communicator.hpp"

namespace moe {

bool mpi_built();

// MPI_Init_thread (MPI_THREAD_FUNNELED: OpenMP threads never call MPI) on construction, MPI_Finalize on
// destruction; one per process, created before the first communicator.
class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  MpiSession() : MpiSession(nullptr, nullptr) {}
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
  // Stops every rank of the job (MPI_Abort) with this exit code: a rank that fails alone would leave the
  // others waiting in a collective for ever.
  [[noreturn]] static void abort(int code);
};

// MPI_COMM_WORLD as a Communicator (needs a live MpiSession).
std::unique_ptr<Communicator> make_world_communicator();

}  // namespace moe
