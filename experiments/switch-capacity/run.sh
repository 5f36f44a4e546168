#!/usr/bin/env bash
# Capacity factor sweep over 16 FFN experts of d_ff 64 on Fashion-MNIST, for Switch top-1 and for top-2
# (softmax top-2, renormalised, as ST-MoE routes): capacity factors 0.75, 1.0, 1.25, 2.0 and dropless, each
# with the Switch auxiliary loss (alpha 0.01) and without it, every seed (sweep.toml, run by
# experiments/lib/sweep.py). Capacity binds in training batches (evaluation is dropless). Prints the
# fraction of dropped slots and of dropped tokens (no routed expert processed them) in training, and test
# quality, beside ST-MoE's Table 5; writes the run files, table.md and plot.png. Complete run files are
# kept (the sweep resumes; --force reruns them).
#   run.sh [--quick] [--epochs N] [--seeds "1 2"] [--out DIR] [--jobs N] [--force]
# Full (default): 10 epochs, seeds 1-2, 40 runs. --quick: 2 epochs, seed 1, 20 runs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
epochs=10
seeds="1 2"
quick_epochs=2
quick_seeds="1"
out="$root/results/switch-capacity"
source "$root/experiments/lib/sparse_study.sh"
parse_study_args "$@"
fashion_data
sweep "$here/sweep.toml"
plot_and_table
