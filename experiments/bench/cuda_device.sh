#!/bin/bash
# On a GPU machine without Armadillo/OpenBLAS (the lent H100/H200 image): unpack the Debian packages
# carried in .debs/ (scripts: `apt-get download` them here, see experiments/bench/README.md) into a prefix,
# build moekit with -DMOE_CUDA=ON, run the CUDA kernels' tests, then the GPU benchmark grid of the routed experts.
# Usage: bash experiments/bench/cuda_device.sh OUT_DIR [extra moe-bench sparse flags]
# (BENCH_MODES, BENCH_PRECISIONS: subsets of the grid; BENCH=0: no moe-bench; TORCH=0: no PyTorch loop.)
set -euo pipefail
out=${1:?usage: cuda_device.sh OUT_DIR}; shift
mkdir -p "$out"
prefix=/tmp/moe-debs
mkdir -p $prefix
for f in .debs/*.deb; do dpkg -x "$f" $prefix; done
lib=$prefix/usr/lib/x86_64-linux-gnu
export LD_LIBRARY_PATH=$lib:$lib/openblas-pthread:${LD_LIBRARY_PATH:-}
{ nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv; nvcc --version | tail -2; } \
  | tee "$out/gpu.txt"
# The kernel layer builds with the CUDA toolkit alone (no Armadillo, no OpenBLAS on the include path).
nvcc -std=c++20 -O2 -gencode=arch=compute_90,code=sm_90 -Isrc -c src/moe/backend/cuda_sparse_ffn.cu \
  -o /tmp/cuda_sparse_ffn.o && echo "kernel layer alone: nvcc -Isrc only, built" | tee -a "$out/gpu.txt"
cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DMOE_CUDA=ON -DMOE_ARCH= \
  -DCMAKE_PREFIX_PATH=$prefix/usr -DCMAKE_LIBRARY_PATH="$lib/openblas-pthread;$lib" \
  -DCMAKE_CXX_FLAGS="-I$prefix/usr/include/x86_64-linux-gnu/openblas-pthread" > "$out/configure.log" 2>&1 \
  || { tail -30 "$out/configure.log"; exit 1; }
cmake --build build-cuda -j 16 > "$out/build.log" 2>&1 || { grep -E "error|Error" -A5 "$out/build.log" | head -60; exit 1; }
# Every GEMM path: the automatic choice, per-expert GEMMs over streams, the padded batch with and without
# the cuBLASLt bias + relu epilogue.
for mode in auto streams grouped padded padded:0 drelu; do
  gemm=${mode%:*}; [ $gemm = drelu ] && gemm=padded
  epilogue=$([ $mode = padded:0 ] && echo 0 || echo 1); drelu=$([ $mode = drelu ] && echo 1 || echo 0)
  echo "== MOE_CUDA_GEMM=$gemm MOE_CUDA_EPILOGUE=$epilogue MOE_CUDA_DRELU=$drelu" >> "$out/tests.log"
  MOE_CUDA_GEMM=$gemm MOE_CUDA_EPILOGUE=$epilogue MOE_CUDA_DRELU=$drelu \
    ./build-cuda/tests/moe-tests -tc="*CUDA*,*cuda*" \
    >> "$out/tests.log" 2>&1 || true
  echo "$mode: $(grep 'test cases' "$out/tests.log" | tail -1)"
done
./build-cuda/tests/moe-tests -tc="fast CPU*" 2>&1 | tail -1
for mode in $([ "${BENCH:-1}" = 0 ] || echo ${BENCH_MODES:-auto streams}); do
  for precision in ${BENCH_PRECISIONS:-bf16 float tf32}; do
    echo "== MOE_CUDA_GEMM=${mode%:*}$([ ${mode#*:} = drelu ] && echo ' MOE_CUDA_DRELU=1')" | tee -a "$out/bench.txt"
    MOE_CUDA_GEMM=${mode%:*} MOE_CUDA_DRELU=$([ ${mode#*:} = drelu ] && echo 1) ./build-cuda/moe-bench sparse --device cuda --precision $precision --tokens 16384 \
      --d-model 1024 --d-ff 4096 --experts 8 64 256 --k 2 --imbalance 0 1 --steps 10 "$@" \
      $([ $precision-$mode = bf16-auto ] && echo --csv "$out/auto-bf16.csv") 2>&1 | tee -a "$out/bench.txt"
  done
done
[ "${TORCH:-1}" = 0 ] || python3 experiments/bench/torch_loop.py --device cuda --dtype bfloat16 --tokens 16384 --d-model 1024 --d-ff 4096 \
  --experts 8 64 --k 2 --steps 5 2>&1 | tee "$out/torch-gpu.csv"
# moekit and the PyTorch loop in one table (printed: $OUT holds 8 files at most).
[ -s "$out/auto-bf16.csv" ] && [ -s "$out/torch-gpu.csv" ] && \
  python3 experiments/bench/sparse_table.py "$out/auto-bf16.csv" "$out/torch-gpu.csv"
