#!/bin/bash
# Expert parallelism on this machine: moe-bench expert-parallel under `mpirun -np P` for P = 1, 2
# and 4, a fixed batch split evenly over the ranks (strong scaling), one OpenMP thread per rank. Each P
# writes OUT/p<P>.csv (median time per training step of the slowest rank, its time in MPI collectives, each
# rank's load; P = 1 also the single-process layer without a communicator), and OUT/p1-threads2.csv one
# process with 2 OpenMP threads (the same cores as P = 2); OUT/table.csv holds all rows.
# Usage: bash experiments/bench/expert_parallel.sh [--out DIR] [-- extra moe-bench flags]
#   default: --tokens 8192 --d-model 256 --d-ff 512 --experts 8 --k 2 --steps 5 into results/bench-ep
# On fewer cores than ranks, mpirun --oversubscribe shares them: the time per step then measures the
# exchange's overhead, not a speed-up.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
source "$root/experiments/lib/args.sh"
bin="${MOE_BIN:-$root/build}"
out="$root/results/bench-ep"
extra=()
while (($#)); do
  case "$1" in
    --out) need_value "$@"; out="$2"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "expert_parallel.sh: error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
lscpu | grep -E '^(Model name|CPU\(s\))' | sed 's/  */ /g'
for P in 1 2 4; do
  mpirun --oversubscribe -np "$P" "$bin/moe-bench" expert-parallel --tokens 8192 --d-model 256 --d-ff 512 \
    --experts 8 --k 2 --steps 5 --threads 1 "${extra[@]}" --csv "$out/p$P.csv" --hdf5 "$out/p$P.h5"
done
# The same cores as OpenMP threads of one process: its single-process time is the baseline for P = 2
# (--bind-to none: mpirun binds a lone rank to one core, which would put both threads on it).
mpirun --bind-to none -np 1 "$bin/moe-bench" expert-parallel --tokens 8192 --d-model 256 --d-ff 512 --experts 8 --k 2 \
  --steps 5 --threads 2 "${extra[@]}" --csv "$out/p1-threads2.csv" --hdf5 "$out/p1-threads2.h5"
# One table: the shared columns of every row (the per-rank columns differ in number).
python3 - "$out" <<'PY'
import csv, sys, pathlib
out = pathlib.Path(sys.argv[1])
rows = [next(csv.DictReader(open(out / f"{name}.csv"))) for name in ("p1", "p1-threads2", "p2", "p4")]
keys = [k for k in rows[0] if not k.startswith("rank") or k == "ranks"]
with open(out / "table.csv", "w", newline="") as f:
    w = csv.DictWriter(f, keys, extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
print(f"wrote {out / 'table.csv'}")
PY
