#!/usr/bin/env bash
# Shazeer et al. (2017) Table 6 at small scale: noisy top-2 gating over 16 FFN experts (d_ff 64) in a
# network on Fashion-MNIST, trained with each (w_importance, w_load) of the paper's grid, every seed.
# Prints quality (test error and cross-entropy) and balance (CV of importance and load, max/mean load)
# beside the paper's numbers, and writes the run files and table.md. Complete run files are kept (--force reruns them).
#   run.sh [--epochs N] [--seeds "1 2 3"] [--out DIR] [--force]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
epochs=10
seeds="1 2 3"
out="$root/results/shazeer2017-balancing"
source "$root/experiments/lib/sparse_study.sh"
parse_study_args "$@"
mkdir -p "$out"
fashion_data
for seed in $seeds; do
  for w in "0 0" "0.2 0" "0 0.2" "0.1 0.1" "0.01 0.01" "1 1"; do
    read -r wi wl <<<"$w"
    run_one "imp${wi}-load${wl}-s$seed" --router noisy-topk --experts 16 --top-k 2 --d-ff 64 \
      --w-importance "$wi" --w-load "$wl" --epochs "$epochs" --seed "$seed"
  done
done
/usr/bin/python3 "$here/table.py" "$out"
