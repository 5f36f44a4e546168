#!/usr/bin/env bash
# Builds em_parts.cpp against the library in build/ (run scripts/test.sh or cmake --build build first)
# and prints the time of each part of one EM iteration, for each thread count given.
#   em_parts.sh [--threads "1 2"]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
threads="1 2"
while (($#)); do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    *) echo "em_parts.sh: error: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[[ -f "$root/build/libmoe.a" ]] || { echo "em_parts.sh: error: build/libmoe.a not found: build the project first" >&2; exit 1; }
arch=$(sed -n 's/^MOE_ARCH:STRING=//p' "$root/build/CMakeCache.txt")
bin="$(mktemp -d)/em_parts"
trap 'rm -rf "$(dirname "$bin")"' EXIT
g++ -std=c++20 -O3 -fno-trapping-math -fopenmp ${arch:+-march=$arch} \
  -DARMA_DONT_USE_WRAPPER -DARMA_USE_BLAS -DARMA_USE_LAPACK -DARMA_NO_DEBUG -DARMA_DONT_USE_OPENMP \
  -I"$root/src" -I"$root/build/generated" -I/usr/include/hdf5/serial "$here/em_parts.cpp" "$root/build/libmoe.a" \
  -lopenblas -llapack -lhdf5_serial -lz -o "$bin"
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), -march=${arch:-default}"
for t in $threads; do
  echo "threads $t:"
  "$bin" "$t"
done
