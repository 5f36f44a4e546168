#!/bin/bash
# On a GPU machine without Armadillo/OpenBLAS (the lent H100/H200 image): unpack the Debian packages
# carried in .debs/ (scripts: `apt-get download` them here, see experiments/bench/README.md) into a prefix,
# build moekit with -DMOE_CUDA=ON, run the CUDA test, then the GPU benchmark grid of issue 6.
# Usage: bash experiments/bench/cuda_device.sh OUT_DIR [extra moe-bench sparse flags]
set -euo pipefail
out=${1:?usage: cuda_device.sh OUT_DIR}; shift
mkdir -p "$out"
prefix=/tmp/moe-debs
mkdir -p $prefix
for f in .debs/*.deb; do dpkg -x "$f" $prefix; done
lib=$prefix/usr/lib/x86_64-linux-gnu
export LD_LIBRARY_PATH=$lib:$lib/openblas-pthread:${LD_LIBRARY_PATH:-}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv | tee "$out/gpu.txt"
cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DMOE_CUDA=ON -DMOE_ARCH= \
  -DCMAKE_PREFIX_PATH=$prefix/usr -DCMAKE_LIBRARY_PATH="$lib/openblas-pthread;$lib" \
  -DCMAKE_CXX_FLAGS="-I$prefix/usr/include/x86_64-linux-gnu/openblas-pthread" > "$out/configure.log" 2>&1 \
  || { tail -30 "$out/configure.log"; exit 1; }
cmake --build build-cuda -j 16 > "$out/build.log" 2>&1 || { grep -E "error|Error" -A5 "$out/build.log" | head -60; exit 1; }
./build-cuda/tests/moe-tests -tc="CUDA*" > "$out/test.log" 2>&1 || true; tail -4 "$out/test.log"
MOE_CUDA_GEMM=streams ./build-cuda/tests/moe-tests -tc="CUDA*" > "$out/test-streams.log" 2>&1 || true; tail -4 "$out/test-streams.log"
./build-cuda/tests/moe-tests -tc="fast CPU*" 2>&1 | tail -3
for mode in streams grouped; do
  for precision in bf16 float tf32; do
    MOE_CUDA_GEMM=$mode ./build-cuda/moe-bench sparse --device cuda --precision $precision --tokens 16384 \
      --d-model 1024 --d-ff 4096 --experts 8 64 256 --k 2 --imbalance 0 1 --steps 10 "$@" \
      $([ $precision = bf16 ] && echo --csv "$out/gpu-$mode-$precision.csv") 2>&1 | tee -a "$out/bench.txt"
  done
done
