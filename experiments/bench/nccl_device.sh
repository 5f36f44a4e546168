#!/bin/bash
# Expert parallelism over NCCL on a lent GPU machine (CUDA 13; no Armadillo, OpenBLAS or MPI there, NCCL from the pip wheel
# nvidia-nccl-cu13): unpack the Debian packages carried in .debs/ (experiments/bench/README.md) into a
# prefix, build with -DMOE_CUDA=ON -DMOE_NCCL=ON, run the GPU exchange tests (loopback with 1, 2 and 4
# ranks on one GPU, NCCL with one rank, training through NCCL), then moe-bench expert-parallel.
# With one GPU and no mpirun only P = 1 runs through NCCL; with several GPUs and an MPI, the same
# moe-bench command under `mpirun -np P` gives the scaling table (tokens per GPU fixed: --tokens P x N).
# Usage: bash experiments/bench/nccl_device.sh OUT_DIR
set -euo pipefail
out=${1:?usage: nccl_device.sh OUT_DIR}
mkdir -p "$out"
# NVLink multicast stays off on these shared machines (a rule of the shared machines this runs on).
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
source experiments/bench/nccl_build.sh
{ nvidia-smi --query-gpu=name,driver_version --format=csv; nvcc --version | tail -2;
  echo "NCCL: $(python3 -m pip show nvidia-nccl-cu13 2>/dev/null | grep -i "^version") at $nccl"; } | tee "$out/gpu.txt"
nccl_build build-nccl OFF
./build-nccl/tests/moe-tests -tc="*GPU exchange*,*NCCL*,*thread*,*CUDA*,*cuda*" 2>&1 | tee "$out/tests.log" | tail -25
# P = 1 on one GPU: the single-GPU layer (single ms), the expert-parallel layer with the all-to-all GPU to
# GPU over NCCL, and through the host; 8 and 64 experts, bf16; the host side on BENCH_THREADS OpenMP
# threads (0, the default: every core).
for experts in 8 64; do
  for exchange in nccl host; do
    ./build-nccl/moe-bench expert-parallel --device cuda --precision bf16 --gpu-exchange $exchange --tokens 16384 \
      --d-model 1024 --d-ff 4096 --experts $experts --k 2 --steps 5 --threads ${BENCH_THREADS:-0} \
      --csv "$out/p1-E$experts-$exchange.csv" 2>&1 | tee -a "$out/bench.txt"
  done
done
