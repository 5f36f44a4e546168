#!/bin/bash
# The sparse-layer benchmark of issue 6 on this machine's CPU: moe-bench sparse (fast CPU backend, float,
# forward and forward + backward beside same-run dense OpenBLAS GEMMs) and the PyTorch loop pattern
# (torch_loop.py; Debian's python3-torch, installed if missing) at the same sizes, then both in one table
# (sparse_table.py -> OUT/table.md).
# Usage: bash experiments/bench/sparse.sh [OUT_DIR]   (default results/bench)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-results/bench}
mkdir -p "$out"
[ -x build/moe-bench ] || bash scripts/build.sh
/usr/bin/python3 -c "import torch" 2>/dev/null || apt-get install -y --no-install-recommends python3-torch
./build/moe-bench sparse --tokens 4096 --d-model 512 --d-ff 1024 --experts 8 64 256 --k 2 --imbalance 0 1 \
  --steps 5 --csv "$out/cpu.csv" --hdf5 "$out/cpu.h5" | tee "$out/cpu.txt"
/usr/bin/python3 experiments/bench/torch_loop.py --tokens 4096 --d-model 512 --d-ff 1024 --experts 8 64 256 --k 2 \
  --steps 3 | tee "$out/torch-cpu.csv"
# Both in one table.
/usr/bin/python3 experiments/bench/sparse_table.py "$out/cpu.csv" "$out/torch-cpu.csv" | tee "$out/table.md"
