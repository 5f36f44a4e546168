#!/usr/bin/env bash
# Jordan & Jacobs (1994) on the simulated 4-joint arm (moe-data generate robot-arm): 12 inputs -> 4
# accelerations, three quarters of the points for training and a quarter for testing (15000 / 5000 by
# default, the paper's). Linear model, MLP with 60 hidden units by backprop, HME of depth 4 (16
# linear-Gaussian experts, 15 gates) by EM, by Algorithm 2, by gradient, and on-line by recursive least
# squares (sweep.toml, run by experiments/lib/sweep.py). Prints the table beside the paper's and writes the
# run files, table.md, summary.h5 and plot.png. Complete run files in DIR are kept (--force reruns them).
#   run.sh [--quick] [--seed S] [--points N] [--out DIR] [--jobs J] [--force]
# Full (the defaults: 20000 points, seed 1; results/jordan1994-hme-em): 88 s of CPU on a 2-core AMD EPYC.
# --quick (results/jordan1994-hme-em-quick): 8000 points (6000 train / 2000 test), 31 s; the same models and
# epochs; options after --quick override it. Every run uses 1 thread.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
source "$root/experiments/lib/args.sh"
seed=1
points=20000
jobs=1
force=()
out="$root/results/jordan1994-hme-em"
bin="${MOE_BIN:-$root/build}"
while (($#)); do
  case "$1" in
    # Quick: the arm's cost is linear in the points, and the epochs are what the checks measure, so quick
    # keeps every model and epoch count and trains on 6000 points instead of 15000 (README: measured outcome).
    --quick) points=8000; out="$root/results/jordan1994-hme-em-quick"; shift ;;
    --seed) need_value "$@"; seed="$2"; shift 2 ;;
    --points) need_value "$@"; points="$2"; shift 2 ;;
    --out) need_value "$@"; out="$2"; shift 2 ;;
    --jobs) need_value "$@"; jobs="$2"; shift 2 ;;
    --force) force=(--force); shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "run.sh: error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for v in seed points jobs; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: error: --$v must be a positive integer (got '${!v}')" >&2; exit 2; }
done
[[ -x "$bin/moe-train" ]] || { echo "run.sh: error: $bin/moe-train not built (cmake --build build, or set MOE_BIN)" >&2; exit 1; }
mkdir -p "$out"
out="$(cd "$out" && pwd)"  # sweep.py runs from the repository root: give it absolute paths
start=$(date +%s)

# The arm's points: generated once per size and seed (the seed fixes them).
data="$out/arm-n$points-seed$seed.csv"
[[ -s "$data" ]] || "$bin/moe-data" generate robot-arm --n "$points" --seed "$seed" --out "$data" >/dev/null
/usr/bin/python3 "$root/experiments/lib/sweep.py" "$here/sweep.toml" run --out "$out" --jobs "$jobs" "${force[@]}" \
  --set "data=$data" --set "seed=$seed"
# table.py stops if a kept run file was trained on other data (another --points in the same folder).
/usr/bin/python3 "$here/table.py" "$out" --seed "$seed" --data "$data"
/usr/bin/python3 "$here/plot.py" "$out" --seed "$seed"
echo "run.sh: $(($(date +%s) - start)) s" >&2
