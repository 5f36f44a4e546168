// The expert-parallel tests' own doctest binary, run by ctest under `mpirun -np P` (P = 1, 2, 4;
// tests/CMakeLists.txt): every rank runs every case in the same order (the layer's calls are collective),
// and the job fails when any rank fails. Only rank 0 prints doctest's summary.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <iostream>

#include "moe/core/error.hpp"
#include "moe/parallel/mpi_communicator.hpp"
#include "mpi_world.hpp"

namespace {
moe::Communicator* the_world = nullptr;
}

moe::Communicator& world() { return *the_world; }

int main(int argc, char** argv) {
  moe::MpiSession session(&argc, &argv);
  auto comm = moe::make_world_communicator();
  the_world = comm.get();
  doctest::Context context(argc, argv);
  if (comm->rank() != 0) context.setOption("out", "/dev/null");
  int failed = context.run();
  // One verdict for the whole job: a rank that passed must not hide one that failed.
  double any = failed != 0 ? 1.0 : 0.0;
  comm->allreduce_sum(&any, 1);
  if (any > 0 && comm->rank() == 0 && failed == 0) std::cerr << "another rank failed a test\n";
  return any > 0 ? 1 : 0;
}
