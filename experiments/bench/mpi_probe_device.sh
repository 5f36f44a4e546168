#!/bin/bash
# Can OpenMPI from Debian 12, carried as packages in .debs/mpi/ and unpacked into a prefix, start ranks on
# the lent GPU machine (whose image has no MPI)? Multi-GPU expert parallelism needs mpirun there for P > 1 over NCCL.
# Usage: bash experiments/bench/mpi_probe_device.sh  (prints what worked)
set -uo pipefail
source experiments/bench/carried_mpi.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
echo "== mpirun --version"; mpirun --version 2>&1 | head -3
echo "== ldd mpirun (missing)"; ldd "$(command -v mpirun)" | grep "not found"
cat > /tmp/hello.c <<'C'
#include <mpi.h>
#include <stdio.h>
int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int r, n; MPI_Comm_rank(MPI_COMM_WORLD, &r); MPI_Comm_size(MPI_COMM_WORLD, &n);
  int x = r + 1, sum = 0; MPI_Allreduce(&x, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  printf("rank %d of %d: sum %d\n", r, n, sum);
  MPI_Finalize();
  return 0;
}
C
echo "== mpicc -showme"; mpicc -showme 2>&1
mpicc /tmp/hello.c -o /tmp/hello 2>&1 | tail -5
echo "== mpirun -np 2 hello"; timeout 60 mpirun -np 2 --oversubscribe /tmp/hello 2>&1 | tail -8
echo "== mpirun -np 2 hello (shared memory + self only)"
timeout 60 mpirun -np 2 --oversubscribe --mca btl self,vader --mca pml ob1 /tmp/hello 2>&1 | tail -8
