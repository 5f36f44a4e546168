#!/usr/bin/env bash
# Capacity factor sweep over 16 FFN experts of d_ff 64 on Fashion-MNIST, for Switch top-1 and for top-2
# (softmax top-2, renormalised, as ST-MoE routes): capacity factors 0.75, 1.0, 1.25, 2.0 and dropless, each
# with the Switch auxiliary loss (alpha 0.01) and without it, every seed. Capacity binds in training
# batches (evaluation is dropless). Prints the fraction of dropped slots and of dropped tokens (no routed
# expert processed them) in training, and test quality, beside ST-MoE's Table 5; writes the run files and
# table.md. Complete run files are kept (--force reruns them).
#   run.sh [--epochs N] [--seeds "1 2"] [--out DIR] [--force]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
epochs=10
seeds="1 2"
out="$root/results/switch-capacity"
source "$root/experiments/lib/sparse_study.sh"
parse_study_args "$@"
mkdir -p "$out"
fashion_data
for seed in $seeds; do
  for c in 0.75 1.0 1.25 2.0 0; do
    for alpha in 0.01 0; do
      run_one "c${c}-alpha${alpha}-s$seed" --router switch --experts 16 --d-ff 64 --capacity-factor "$c" \
        --switch-alpha "$alpha" --epochs "$epochs" --seed "$seed"
      run_one "top2-c${c}-alpha${alpha}-s$seed" --router topk --top-k 2 --experts 16 --d-ff 64 \
        --capacity-factor "$c" --switch-alpha "$alpha" --epochs "$epochs" --seed "$seed"
    done
  done
done
/usr/bin/python3 "$here/table.py" "$out"
