#!/bin/bash
# The acceptance run of expert parallelism over NCCL, for a machine with several GPUs: under `mpirun -np P` for P = 1, 2, 4 (those
# with a GPU each),
#   1. the MPI test binary (tests/mpi; its NCCL case checks the layer against the single-GPU layer),
#   2. moe-train --expert-parallel against the one-process run with the same seed (every loss of the
#      history and every trained parameter, within TOL relative),
#   3. the weak-scaling table: moe-bench expert-parallel with N tokens per rank (--tokens P x N), 8 and 64
#      experts; tokens per second against P, and P's efficiency against P x the P = 1 rate.
# DEVICE=cuda (default): builds build-nccl-mpi (.debs as for nccl_device.sh; OpenMPI from .debs/mpi when
# the machine has no mpirun), NCCL between the GPUs, bf16 for the table. DEVICE=cpu runs the same steps
# with the CPU layer and the MPI all-to-all on an existing build (MOE_BIN, default build/): the script's
# own check on a machine without GPUs.
# Usage: bash experiments/bench/nccl_scaling.sh OUT_DIR     (N: TOKENS_PER_RANK, default 8192)
set -euo pipefail
out=${1:?usage: nccl_scaling.sh OUT_DIR}
mkdir -p "$out"
device=${DEVICE:-cuda}
N=${TOKENS_PER_RANK:-8192}
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
if [ "$device" = cuda ]; then
  command -v mpirun >/dev/null || source experiments/bench/carried_mpi.sh
  source experiments/bench/nccl_build.sh
  nccl_build build-nccl-mpi ON moe-mpi-tests moe-train moe-bench moe-data
  bin=build-nccl-mpi
  gpus=$(nvidia-smi -L | wc -l)
  nvidia-smi --query-gpu=name,driver_version --format=csv | tee "$out/gpu.txt"
  tol=${TOL:-1e-4}  # float on the GPU
  train_flags="--device cuda --cuda-precision float"
  bench_flags="--device cuda --precision bf16 --gpu-exchange nccl --d-model 1024 --d-ff 4096 --threads 0"
else
  bin=${MOE_BIN:-build}
  gpus=4
  tol=${TOL:-1e-9}
  train_flags=""
  bench_flags="--d-model 64 --d-ff 128 --threads 1"
fi
ranks=$(for P in 1 2 4; do [ $P -le "$gpus" ] && echo $P; done)
mpi="mpirun --oversubscribe --bind-to none -np"
# 1. The MPI test binary.
for P in $ranks; do
  echo "== tests/mpi with $P ranks" | tee -a "$out/tests.log"
  OMP_NUM_THREADS=1 $mpi $P $bin/tests/moe-mpi-tests >> "$out/tests.log" 2>&1 && echo "passed" || echo "FAILED (tests.log)"
done
# 2. A training run against the one-process run with the same seed.
$bin/moe-data generate linear-mixture --n 2000 --inputs 8 --experts 4 --seed 2 --out "$out/data.csv" > /dev/null
train="$bin/moe-train --data $out/data.csv --features x1,x2,x3,x4,x5,x6,x7,x8 --target y --task regression
  --model sparse --router topk --experts 8 --top-k 2 --capacity-factor 1 --switch-alpha 0.01 --d-model 32
  --d-ff 64 --epochs 4 --optimizer adam --learning-rate 0.01 --batch-size 200 --seed 3 --threads 1 --quiet $train_flags"
$train -o "$out/train-single.h5"
for P in $ranks; do
  $mpi $P $train --expert-parallel -o "$out/train-p$P.h5"
  ${PYTHON:-python3} - "$out/train-single.h5" "$out/train-p$P.h5" "$tol" <<'PY'
import sys, h5py, numpy as np
a, b, tol = h5py.File(sys.argv[1]), h5py.File(sys.argv[2]), float(sys.argv[3])
worst, name_of = 0.0, ""
def visit(name, obj):
    global worst, name_of
    if isinstance(obj, h5py.Dataset) and obj.dtype.kind in "fiu" and "seconds" not in name and name.split("/")[0] in ("history", "model"):
        x, y = np.asarray(a[name], float), np.asarray(obj, float)
        err = np.linalg.norm(x - y) / max(np.linalg.norm(x), 1e-300)
        if err > worst: worst, name_of = err, name
b.visititems(visit)
print(f"{sys.argv[2]}: largest relative difference {worst:.2e} ({name_of}) -> {'ok' if worst <= tol else 'ABOVE ' + str(tol)}")
PY
done | tee "$out/train.txt"
# 3. Weak scaling: N tokens per rank.
for E in 8 64; do
  for P in $ranks; do
    [ $P -le $E ] || continue
    $mpi $P $bin/moe-bench expert-parallel $bench_flags --tokens $((P * N)) --experts $E --k 2 --steps 5 \
      --csv "$out/scale-E$E-P$P.csv" > /dev/null
  done
done
${PYTHON:-python3} - "$out" <<'PY' | tee "$out/scaling.md"
import csv, sys, pathlib
out = pathlib.Path(sys.argv[1])
print("| experts | GPUs (ranks) | tokens per rank | ms per step | of which all-to-all | tokens/s | efficiency |")
print("|---|---|---|---|---|---|---|")
for E in (8, 64):
    base = None
    for P in (1, 2, 4):
        f = out / f"scale-E{E}-P{P}.csv"
        if not f.exists(): continue
        r = next(csv.DictReader(open(f)))
        tps = float(r["tokens_per_second"])
        base = base or tps
        print(f"| {E} | {P} | {int(r['tokens']) // P} | {1e3 * float(r['step_seconds']):.1f} | "
              f"{1e3 * float(r['comm_seconds']):.1f} | {tps:.0f} | {tps / (P * base):.2f} |")
PY
