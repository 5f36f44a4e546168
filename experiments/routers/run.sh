#!/usr/bin/env bash
# Router comparison at equal active parameters on Fashion-MNIST: 16 FFN experts; routers that send a token
# to 2 experts use d_ff 64, top-1 routers (switch, hash, balanced) d_ff 128, so every token meets 128
# hidden units; expert choice takes c = 2 tokens per expert on average and soft MoE 16 slots per expert
# (256 slot evaluations per batch of 128 tokens, 2 per token). Each router with its paper's balancing
# (noisy top-k: w_importance = w_load = 0.1; switch: alpha 0.01, capacity 1.25; gshard: alpha 0.01,
# capacity 2.0; loss-free: bias rate 1e-3; the others none). Prints quality, balance and time per epoch
# in one table; writes the run files and table.md. Complete run files are kept (--force reruns them).
#   run.sh [--epochs N] [--seeds "1 2 3"] [--out DIR] [--force]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
epochs=10
seeds="1 2 3"
out="$root/results/routers"
source "$root/experiments/lib/sparse_study.sh"
parse_study_args "$@"
mkdir -p "$out"
fashion_data
routers=("topk|--router topk --top-k 2 --d-ff 64"
         "noisy-topk|--router noisy-topk --top-k 2 --d-ff 64 --w-importance 0.1 --w-load 0.1"
         "switch|--router switch --d-ff 128 --capacity-factor 1.25 --switch-alpha 0.01"
         "gshard|--router gshard --d-ff 64 --capacity-factor 2.0 --switch-alpha 0.01"
         "hash|--router hash --d-ff 128"
         "expert-choice|--router expert-choice --capacity-factor 2 --d-ff 64"
         "soft|--router soft --slots-per-expert 16 --d-ff 64"
         "balanced|--router balanced --d-ff 128"
         "loss-free|--router loss-free --top-k 2 --d-ff 64 --bias-rate 0.001")
for seed in $seeds; do
  for r in "${routers[@]}"; do
    # shellcheck disable=SC2086
    run_one "${r%%|*}-s$seed" ${r#*|} --experts 16 --epochs "$epochs" --seed "$seed"
  done
done
/usr/bin/python3 "$here/table.py" "$out"
