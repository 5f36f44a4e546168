#!/usr/bin/env bash
# Yang et al. (2017) rank experiment (the softmax bottleneck): a synthetic language of C contexts x V words
# (default 256 x 256) whose true logit matrix has rank R = 64 (moe-data generate rank-language), learnt from its
# true distributions (soft targets, full batch, Adam). Softmax heads of d = 4, 8, 16, 32 (< r - 1) and 64;
# MoS at d = 8 with K = 1, 3, 5, 10, 15, 20; MoC at d = 8, K = 10; each with every seed; and MoS at
# d = 32 with K = 3, 10, 20 with the first seed only (where MoS reaches the truth). Runs: sweep.toml.
# Prints the table (loss above the true entropy, empirical rank of the log-probability matrix; criteria in
# table.py) and writes the run files NAME-sSEED.h5, table.md and plot.png. Runs whose file already exists in
# DIR are kept (rerun them with --force).
#   run.sh [--quick] [--epochs N] [--seeds "1 2 3"] [--contexts C] [--words V] [--rank R] [--out DIR]
#          [--jobs J] [--threads T] [--force]
# Full (the defaults; results/yang2018-mos-rank): 39 runs, about an hour of CPU on a 2-core AMD EPYC.
# --quick (results/yang2018-mos-rank-quick): a 64 x 64 language of rank 16 (bottleneck for d < 16),
# softmax d = 4, 8, 16, MoS d = 4 with K = 1, 3, 5, 10, MoS d = 8 K = 10, MoC d = 8 K = 10, seeds 1-3,
# 3000 epochs, 1 thread; options after --quick override it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
source "$root/experiments/lib/args.sh"
epochs=6000
seeds="1 2 3"
contexts=256
words=256
rank=64
jobs=1
threads=1
force=()
out="$root/results/yang2018-mos-rank"
bin="${MOE_BIN:-$root/build}"
# Full: the grid of sweep.toml with every seed, then MoS at d = 32 with the first seed.
settings=""
extra="mos-d32-k3,mos-d32-k10,mos-d32-k20"
while (($#)); do
  case "$1" in
    # Quick: the full study's shape on a language 16 times smaller, with a quarter of the rank (so MoS at
    # d = 8 is where the full run's d = 32 is: half the bottleneck) and half the epochs: a softmax on each
    # side of d = R - 1, the K sweep of MoS at d = 4 (at d = 8 its rank is already saturated at K = 3), MoS
    # and MoC at d = 8 with K = 10 (README: measured outcome and CPU time).
    --quick) contexts=64; words=64; rank=16; epochs=3000; seeds="1 2 3"; threads=1; extra=""
             settings="softmax-d4,softmax-d8,softmax-d16,mos-d4-k1,mos-d4-k3,mos-d4-k5,mos-d4-k10,mos-d8-k10,moc-d8-k10"
             out="$root/results/yang2018-mos-rank-quick"; shift ;;
    --epochs) need_value "$@"; epochs="$2"; shift 2 ;;
    --seeds) need_value "$@"; seeds="$2"; shift 2 ;;
    --contexts) need_value "$@"; contexts="$2"; shift 2 ;;
    --words) need_value "$@"; words="$2"; shift 2 ;;
    --rank) need_value "$@"; rank="$2"; shift 2 ;;
    --out) need_value "$@"; out="$2"; shift 2 ;;
    --jobs) need_value "$@"; jobs="$2"; shift 2 ;;
    --threads) need_value "$@"; threads="$2"; shift 2 ;;
    --force) force=(--force); shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "run.sh: error: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
for v in epochs contexts words rank jobs; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: error: --$v must be a positive integer (got '${!v}')" >&2; exit 2; }
done
[[ -x "$bin/moe-train" ]] || { echo "run.sh: error: $bin/moe-train not built (bash scripts/build.sh, or set MOE_BIN)" >&2; exit 1; }
mkdir -p "$out"
out="$(cd "$out" && pwd)"  # sweep.py runs from the repository root: give it absolute paths
lang="$out/language.h5"
[[ -s "$lang" ]] || "$bin/moe-data" generate rank-language --contexts "$contexts" --words "$words" --rank "$rank" \
  --logit-scale 2 --seed 1 --out "$lang" >/dev/null
# The runs kept in DIR were trained on its language: refuse to add runs of another one.
/usr/bin/python3 -c 'import h5py, sys; a = h5py.File(sys.argv[1], "r")["language"].attrs
have = [int(a[k]) for k in ("contexts", "words", "rank")]
sys.exit(0 if have == [int(v) for v in sys.argv[2:]] else
         f"run.sh: error: {sys.argv[1]} is {have[0]} x {have[1]} of rank {have[2]}; use another --out")' \
  "$lang" "$contexts" "$words" "$rank"
list() { local IFS=,; echo "$*"; }  # "1 2 3" -> 1,2,3 (called unquoted to split the words)
sweep=(/usr/bin/python3 "$here/../lib/sweep.py" "$here/sweep.toml" run --out "$out" --jobs "$jobs" "${force[@]}"
       --set "data=$lang" --set "epochs=$epochs" --set "threads=$threads")
# shellcheck disable=SC2086
"${sweep[@]}" --set "seed=$(list $seeds)" ${settings:+--set "setting=$settings"}
[[ -n "$extra" ]] && "${sweep[@]}" --set "seed=${seeds%% *}" --set "setting=$extra"
/usr/bin/python3 "$here/table.py" "$out"
/usr/bin/python3 "$here/plot.py" "$out"
