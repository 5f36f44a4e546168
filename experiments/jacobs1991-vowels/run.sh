#!/usr/bin/env bash
# Reruns Jacobs et al. (1991) Table 1: mixtures of 4 and 8 experts against backprop MLPs with 6 and 12
# hidden units, several runs each (different initial weights, one fixed speaker split; sweep.toml, run by
# experiments/lib/sweep.py), then prints the table beside the paper's and writes table.md, summary.h5 and
# plot.png. Complete run files in DIR are kept (the sweep resumes; --force reruns them).
#   run.sh [--quick] [--runs N] [--out DIR] [--lr X] [--expert linear-gaussian|softmax] [--jobs J] [--force]
#   --runs N    runs (seeds 1..N) per model; default 10, --runs 25 is the paper's count
#   --lr X      one learning rate for every model (default 0.5); each rate is in the file names
#   --expert    the mixtures' experts: the paper's N(y; A x + b, I) on one-hot targets (linear-gaussian,
#               default) or linear softmax classifiers
# Full (the defaults; results/jacobs1991-vowels): 10 runs of each model, 10 s of CPU on a 2-core AMD EPYC.
# --quick (results/jacobs1991-vowels-quick): the same 10 runs, 10 s of CPU (the study takes seconds, and
# the spread checks need the runs); options after --quick override it. Every run uses 1 thread.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
source "$root/experiments/lib/args.sh"
runs=10
lr=0.5
expert=linear-gaussian
jobs=1
force=()
out="$root/results/jacobs1991-vowels"
bin="${MOE_BIN:-$root/build}"
while (($#)); do
  case "$1" in
    # Quick: the full run already fits the budget; only the folder differs, so quick and full never mix.
    --quick) runs=10; out="$root/results/jacobs1991-vowels-quick"; shift ;;
    --runs) need_value "$@"; runs="$2"; shift 2 ;;
    --out) need_value "$@"; out="$2"; shift 2 ;;
    --lr) need_value "$@"; lr="$2"; shift 2 ;;
    --expert) need_value "$@"; expert="$2"; shift 2 ;;
    --jobs) need_value "$@"; jobs="$2"; shift 2 ;;
    --force) force=(--force); shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "run.sh: error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$expert" in
  linear-gaussian) mixtures="mixture-4,mixture-8" ;;
  softmax) mixtures="mixture-4-softmax,mixture-8-softmax" ;;
  *) echo "run.sh: error: --expert must be linear-gaussian or softmax (got '$expert')" >&2; exit 2 ;;
esac
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: error: --runs must be a positive integer (got '$runs')" >&2; exit 2; }
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: error: --jobs must be a positive integer (got '$jobs')" >&2; exit 2; }
[[ "$lr" =~ ^[0-9]*\.?[0-9]+([eE]-?[0-9]+)?$ ]] ||
  { echo "run.sh: error: --lr must be a positive number (got '$lr')" >&2; exit 2; }
[[ -x "$bin/moe-train" ]] || { echo "run.sh: error: $bin/moe-train not built (cmake --build build, or set MOE_BIN)" >&2; exit 1; }

# config.toml reads the data from data/cache/ of the repository (its path is relative to config.toml).
data="$root/data/cache/peterson-barney.csv"
[[ -s "$data" ]] || "$bin/moe-data" fetch peterson-barney --out "$data"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
start=$(date +%s)

seeds=$(seq -s, 1 "$runs")
/usr/bin/python3 "$root/experiments/lib/sweep.py" "$here/sweep.toml" run --out "$out" --jobs "$jobs" "${force[@]}" \
  --set "setting=$mixtures,mlp-6,mlp-12" --set "seed=$seeds" --set "learning-rate=$lr"
/usr/bin/python3 "$here/table.py" "$out" --runs "$runs"
/usr/bin/python3 "$here/plot.py" "$out"
echo "run.sh: $(($(date +%s) - start)) s" >&2
