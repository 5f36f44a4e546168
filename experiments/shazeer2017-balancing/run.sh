#!/usr/bin/env bash
# Shazeer et al. (2017) Table 6 at small scale: noisy top-2 gating over 16 FFN experts (d_ff 64) in a
# network on Fashion-MNIST, trained with each (w_importance, w_load) of the paper's grid, every seed
# (sweep.toml, run by experiments/lib/sweep.py). Prints quality (test error and cross-entropy) and balance
# (CV of importance and load, max/mean load) beside the paper's numbers; writes the run files, table.md and
# plot.png. Complete run files are kept (the sweep resumes; --force reruns them).
#   run.sh [--quick] [--epochs N] [--seeds "1 2 3"] [--out DIR] [--jobs N] [--force]
# Full (default): 10 epochs, seeds 1-3, 18 runs. --quick: 5 epochs, seed 1, 6 runs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
epochs=10
seeds="1 2 3"
quick_epochs=5
quick_seeds="1"
out="$root/results/shazeer2017-balancing"
source "$root/experiments/lib/sparse_study.sh"
parse_study_args "$@"
fashion_data
sweep "$here/sweep.toml"
plot_and_table
