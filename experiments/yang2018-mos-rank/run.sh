#!/usr/bin/env bash
# Yang et al. (2017) rank experiment (the softmax bottleneck): a synthetic language of 128 contexts x 128
# words whose true logit matrix has rank 64 (moe-data generate rank-language), learnt from its true
# distributions (soft targets, full batch, Adam). Softmax heads of d = 4, 8, 16, 32 (< r - 1) and 64;
# MoS at d = 8 with K = 1, 3, 5, 10, 15, 20; MoC at d = 8, K = 10. Prints the table (loss above the true
# entropy, empirical rank of the log-probability matrix) and writes the run files and table.md.
# Runs whose file already exists in DIR are kept (rerun them with --force).
#   run.sh [--epochs N] [--out DIR] [--threads T] [--force]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
epochs=2000
threads=1
force=0
out="$root/results/yang2018-mos-rank"
bin="${MOE_BIN:-$root/build}"
while (($#)); do
  case "$1" in
    --epochs) epochs="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --force) force=1; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "run.sh: error: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
lang="$out/language.h5"
[[ -s "$lang" ]] || "$bin/moe-data" generate rank-language --contexts 128 --words 128 --rank 64 --logit-scale 2 \
  --seed 1 --out "$lang" >/dev/null
common=(--task lm --data "$lang" --embedding 64 --hidden 128 --optimizer adam --learning-rate 0.01
        --epochs "$epochs" --seed 1 --threads "$threads" --quiet)
runs=()
for d in 4 8 16 32 64; do runs+=("softmax-d$d|--head softmax --projection $d"); done
for k in 1 3 5 10 15 20; do runs+=("mos-d8-k$k|--head mos --experts $k --projection 8"); done
runs+=("moc-d8-k10|--head moc --experts 10 --projection 8")
i=0
for r in "${runs[@]}"; do
  i=$((i + 1))
  name="${r%%|*}"
  if [[ $force == 0 && -s "$out/$name.h5" ]]; then echo "[$i/${#runs[@]}] $name (kept)" >&2; continue; fi
  echo "[$i/${#runs[@]}] $name" >&2
  # shellcheck disable=SC2086
  "$bin/moe-train" "${common[@]}" ${r#*|} -o "$out/$name.h5"
done
/usr/bin/python3 "$here/table.py" "$out"
