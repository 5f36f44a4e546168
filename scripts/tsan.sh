#!/usr/bin/env bash
# ThreadSanitizer over the OpenMP paths (not in CI; times in docs/testing.md). Debian's libgomp is not built
# for TSan, which would then report the runtime's own synchronisation, so this builds with clang and
# LLVM's OpenMP runtime (libomp) in ./build-tsan and loads the Archer OMPT tool, which tells TSan about
# OpenMP's barriers, reductions and locks. It runs the test suite, the apps the CLI tests start included,
# with two OpenMP threads, so that the loops over experts, blocks and tokens the tests reach run
# concurrently (which ones do is to be recorded in docs/notes/lab-notebook.md); a report stops the process with exit code 86
# and fails the test. Not the quick studies: their runs are single-threaded by design, and they would
# take 9 of the 10 minutes. Needs clang and libomp-dev (apt-get install clang libomp-dev). Extra
# arguments go to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
build="build-tsan"
llvm_lib=/usr/lib/llvm-14/lib
CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DMOE_SANITIZE=thread >/dev/null
time cmake --build "$build" -j"$(nproc)"
omp=$(ldd "$build/tests/moe-tests" | grep -i -E 'libg?omp' || true)
if [[ "$omp" != *"$llvm_lib/libomp"* || "$omp" == *libgomp* ]]; then
  echo "tsan.sh: moe-tests must use $llvm_lib/libomp.so only, not: $omp" >&2
  exit 1
fi
export OMP_NUM_THREADS=2 OMP_TOOL_LIBRARIES=$llvm_lib/libarcher.so
# ignore_noninstrumented_modules: no reports from memcpy & co. called inside uninstrumented libraries
# (libomp itself, OpenBLAS, HDF5), as Archer's documentation asks.
export TSAN_OPTIONS="halt_on_error=1:exitcode=86:ignore_noninstrumented_modules=1"
cd "$build"
# Not the expert-parallel tests either: their ranks run one OpenMP thread each (OMP_NUM_THREADS=1), so
# there is nothing of ours for TSan to check, and OpenMPI's own threads are not instrumented.
time ctest --output-on-failure -j"$(nproc)" -E '^quick study|^mpi expert parallelism|expert-parallel' "$@"
