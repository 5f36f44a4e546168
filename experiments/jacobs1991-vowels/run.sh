#!/usr/bin/env bash
# Reruns Jacobs et al. (1991) Table 1: mixtures of 4 and 8 experts against backprop MLPs with 6 and 12
# hidden units, several runs each (different initial weights, one fixed speaker split), then prints the
# table beside the paper's and writes the summary HDF5 and the plot.
#   run.sh [--runs N] [--out DIR] [--lr X]   (default 10 runs; --runs 25 is the paper's count;
#                                             --lr sets one learning rate for every model, default 0.5)
#   --expert linear-gaussian | softmax         the mixtures' experts: the paper's N(y; A x + b, I) on one-hot
#                                             targets (default), or linear softmax classifiers
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
runs=10
lr=0.5
expert=linear-gaussian
out="$root/results/jacobs1991-vowels"
while (($#)); do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --lr) lr="$2"; shift 2 ;;
    --expert) expert="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "run.sh: error: unknown argument '$1' (expected --runs N or --out DIR)" >&2; exit 2 ;;
  esac
done
case "$expert" in
  softmax) expert_flags="--expert softmax" ;;
  linear-gaussian) expert_flags="--expert linear-gaussian --fixed-variance" ;;
  *) echo "run.sh: error: --expert must be linear-gaussian or softmax (got '$expert')" >&2; exit 2 ;;
esac
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: error: --runs must be a positive integer (got '$runs')" >&2; exit 2; }

bin="$root/build"
data="$root/data/cache/peterson-barney.csv"
[[ -s "$data" ]] || "$bin/moe-data" fetch peterson-barney --out "$data"
mkdir -p "$out"
cd "$root"

# name | flags. One learning rate for all four models (full batch, momentum 0.9): the comparison is
# epochs to criterion at equal step size; README shows it at two rates.
settings=(
  "mixture-4|--model mixture --experts 4 $expert_flags"
  "mixture-8|--model mixture --experts 8 $expert_flags"
  "mlp-6|--model mlp --hidden 6 --activation sigmoid --mlp-output sigmoid"
  "mlp-12|--model mlp --hidden 12 --activation sigmoid --mlp-output sigmoid"
)
total=$((runs * ${#settings[@]}))
i=0
start=$(date +%s)
for s in "${settings[@]}"; do
  name="${s%%|*}"
  flags="${s#*|}"
  for ((seed = 1; seed <= runs; seed++)); do
    i=$((i + 1))
    elapsed=$(($(date +%s) - start))
    eta=$((elapsed * (total - i + 1) / (i > 1 ? i - 1 : 1)))
    if [[ -t 2 ]]; then
      printf '\r[%d/%d] %s seed %d (%ds elapsed, ETA %ds)\033[K' "$i" "$total" "$name" "$seed" "$elapsed" "$eta" >&2
    elif ((seed == 1)); then
      printf '[%d/%d] %s, %d runs\n' "$i" "$total" "$name" "$runs" >&2
    fi
    # shellcheck disable=SC2086
    "$bin/moe-train" --config "$here/config.toml" $flags --learning-rate "$lr" --seed "$seed" --quiet -o "$out/$name-seed$seed.h5"
  done
done
[[ -t 2 ]] && printf '\n' >&2
/usr/bin/python3 "$here/table.py" "$out" --runs "$runs" --expert "$expert"
