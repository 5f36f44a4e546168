#!/bin/bash
# The sparse-layer benchmark on this machine's CPU: moe-bench sparse (fast CPU backend, float,
# forward and forward + backward beside same-run dense OpenBLAS GEMMs, all cores) and the PyTorch loop
# pattern (torch_loop.py; Debian's python3-torch) at the same sizes, then both in one table
# (sparse_table.py -> OUT/table.md) and the plot (plot.py -> OUT/plot.png); check.py OUT tests the targets.
# Usage: bash experiments/bench/sparse.sh [--quick] [--out DIR | DIR]   (default results/bench, --quick: results/bench-quick)
#   full:    tokens 4096, d_model 512, d_ff 1024, k 2, experts 8 64 256, uniform and Zipf-1 routing, 5 steps;
#            installs python3-torch when it is missing
#   --quick: the same sizes, experts 8 and 64, uniform routing, 5 steps (2 for the loop); the PyTorch loop
#            only when torch is already installed (no 256-expert case: check.py skips the 8 -> 256 time)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
source "$root/experiments/lib/args.sh"
bin="${MOE_BIN:-$root/build}"
out=""
quick=0
while (($#)); do
  case "$1" in
    --quick) quick=1; shift ;;
    --out) need_value "$@"; out="$2"; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) echo "sparse.sh: error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    *) out="$1"; shift ;;  # the positional OUT_DIR of earlier versions
  esac
done
# Quick runs go to their own folder unless told otherwise.
if [ -z "$out" ]; then
  out="$root/results/bench"
  if ((quick)); then out="$out-quick"; fi
fi
mkdir -p "$out"
if [ ! -x "$bin/moe-bench" ]; then
  [ -z "${MOE_BIN:-}" ] || { echo "sparse.sh: error: $bin/moe-bench does not exist (MOE_BIN)" >&2; exit 1; }
  bash "$root/scripts/build.sh"
fi
if ((quick)); then
  experts=(8 64); imbalance=(0); steps=5; torch_steps=2
else
  experts=(8 64 256); imbalance=(0 1); steps=5; torch_steps=3
fi
# The machine's load before the run (check.py prints it): the rates mean something only on an idle machine.
cut -d' ' -f1-3 /proc/loadavg > "$out/loadavg.txt"
sizes=(--tokens 4096 --d-model 512 --d-ff 1024 --k 2)
"$bin/moe-bench" sparse "${sizes[@]}" --experts "${experts[@]}" --imbalance "${imbalance[@]}" --steps "$steps" \
  --csv "$out/cpu.csv" --hdf5 "$out/cpu.h5" | tee "$out/cpu.txt"
# The PyTorch loop: a quick run takes it only when torch is there (installing it takes minutes).
rm -f "$out/torch-cpu.csv"
if ! /usr/bin/python3 -c "import torch" 2>/dev/null && ((!quick)); then
  apt-get install -y --no-install-recommends python3-torch
fi
if /usr/bin/python3 -c "import torch" 2>/dev/null; then
  /usr/bin/python3 "$root/experiments/bench/torch_loop.py" "${sizes[@]}" --experts "${experts[@]}" --steps "$torch_steps" \
    > "$out/torch-cpu.csv.tmp"
  mv "$out/torch-cpu.csv.tmp" "$out/torch-cpu.csv"
  cat "$out/torch-cpu.csv"
  torch_csv=("$out/torch-cpu.csv")
else
  echo "sparse.sh: python3-torch is not installed: no PyTorch loop in this run (the full run installs it)" >&2
  torch_csv=()
fi
{
  /usr/bin/python3 "$root/experiments/bench/sparse_table.py" "$out/cpu.csv" "${torch_csv[@]}"
  # What to read it against: the speed targets and the peers of docs/performance.md (the same machine type).
  echo
  echo "Targets (uniform routing): at least 0.80 of the same-run dense rate with 8 experts, 0.70 with 64;"
  echo "time from 8 to 256 experts at most 1.3x. Peers (2 cores, same sizes): the PyTorch loop 54"
  echo "GFLOP/s with 8 experts and 21 with 64, against 114-118 GFLOP/s dense in the same process (0.46, 0.18)."
} > "$out/table.md"
cat "$out/table.md"
/usr/bin/python3 "$root/experiments/bench/plot.py" "$out"
