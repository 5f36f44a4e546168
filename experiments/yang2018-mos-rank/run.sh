#!/usr/bin/env bash
# Yang et al. (2017) rank experiment (the softmax bottleneck): a synthetic language of C contexts x V words
# (default 256 x 256) whose true logit matrix has rank R = 64 (moe-data generate rank-language), learnt from its
# true distributions (soft targets, full batch, Adam). Softmax heads of d = 4, 8, 16, 32 (< r - 1) and 64;
# MoS at d = 8 with K = 1, 3, 5, 10, 15, 20; MoC at d = 8, K = 10; each with every seed; and MoS at
# d = 32 with K = 3, 10, 20 with the first seed only (where MoS reaches the truth). Prints the table
# (loss above the true entropy, empirical rank of the log-probability matrix; criteria in table.py) and
# writes the run files NAME-sSEED.h5 and table.md. Runs whose file already exists in DIR are kept (rerun
# them with --force).
#   run.sh [--epochs N] [--seeds "1 2 3"] [--contexts C] [--words V] [--rank R] [--out DIR] [--jobs J] [--threads T] [--force]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
epochs=6000
seeds="1 2 3"
contexts=256
words=256
rank=64
jobs=1
threads=1
force=0
out="$root/results/yang2018-mos-rank"
bin="${MOE_BIN:-$root/build}"
while (($#)); do
  case "$1" in
    --epochs) epochs="$2"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
    --contexts) contexts="$2"; shift 2 ;;
    --words) words="$2"; shift 2 ;;
    --rank) rank="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --force) force=1; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "run.sh: error: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
for v in epochs contexts words rank jobs; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: error: --$v must be a positive integer (got '${!v}')" >&2; exit 2; }
done
[[ -x "$bin/moe-train" ]] || { echo "run.sh: error: $bin/moe-train not built (bash scripts/build.sh, or set MOE_BIN)" >&2; exit 1; }
mkdir -p "$out"
lang="$out/language.h5"
[[ -s "$lang" ]] || "$bin/moe-data" generate rank-language --contexts "$contexts" --words "$words" --rank "$rank" \
  --logit-scale 2 --seed 1 --out "$lang" >/dev/null
common=(--task lm --data "$lang" --embedding 64 --hidden 128 --optimizer adam --learning-rate 0.01
        --epochs "$epochs" --threads "$threads" --quiet)
models=()
for d in 4 8 16 32 64; do models+=("softmax-d$d|--head softmax --projection $d"); done
for k in 1 3 5 10 15 20; do models+=("mos-d8-k$k|--head mos --experts $k --projection 8"); done
models+=("moc-d8-k10|--head moc --experts 10 --projection 8")
first_seed_only=()
for k in 3 10 20; do first_seed_only+=("mos-d32-k$k|--head mos --experts $k --projection 32"); done
todo=()
for seed in $seeds; do
  these=("${models[@]}")
  [[ "$seed" == "${seeds%% *}" ]] && these+=("${first_seed_only[@]}")
  for m in "${these[@]}"; do
    name="${m%%|*}-s$seed"
    if [[ $force == 0 && -s "$out/$name.h5" ]]; then continue; fi
    todo+=("$name|$seed|${m#*|}")
  done
done
echo "run.sh: ${#todo[@]} runs to do, $jobs at a time" >&2
i=0
for t in "${todo[@]}"; do
  i=$((i + 1))
  IFS='|' read -r name seed flags <<<"$t"
  while (($(jobs -rp | wc -l) >= jobs)); do wait -n; done
  echo "[$i/${#todo[@]}] $name" >&2
  # shellcheck disable=SC2086
  "$bin/moe-train" "${common[@]}" --seed "$seed" $flags -o "$out/$name.h5" &
done
wait
/usr/bin/python3 "$here/table.py" "$out"
