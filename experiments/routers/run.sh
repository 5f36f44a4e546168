#!/usr/bin/env bash
# Router comparison at equal active parameters on Fashion-MNIST: 16 FFN experts; routers that send a token
# to 2 experts use d_ff 64, top-1 routers (switch, hash, balanced) d_ff 128, so every token meets 128
# hidden units; expert choice takes c = 2 tokens per expert on average and soft MoE 16 slots per expert
# (256 slot evaluations per batch of 128 tokens, 2 per token). Each router with its paper's balancing
# (noisy top-k: w_importance = w_load = 0.1; switch: alpha 0.01, capacity 1.25; gshard: alpha 0.01,
# capacity 2.0; loss-free: bias rate 1e-3; the others none); sweep.toml, run by experiments/lib/sweep.py.
# Prints quality, balance and time per epoch in one table; writes the run files, table.md and plot.png.
# Complete run files are kept (the sweep resumes; --force reruns them).
#   run.sh [--quick] [--epochs N] [--seeds "1 2 3"] [--out DIR] [--jobs N] [--force]
# Full (default): 10 epochs, seeds 1-3, 27 runs. --quick: 4 epochs, seed 1, 9 runs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
epochs=10
seeds="1 2 3"
quick_epochs=4
quick_seeds="1"
out="$root/results/routers"
source "$root/experiments/lib/sparse_study.sh"
parse_study_args "$@"
fashion_data
sweep "$here/sweep.toml"
plot_and_table
