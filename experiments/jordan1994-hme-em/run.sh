#!/usr/bin/env bash
# Jordan & Jacobs (1994) on the simulated 4-joint arm (moe-data generate robot-arm): 15000 training and
# 5000 test points, 12 inputs -> 4 accelerations. Linear model, MLP with 60 hidden units by backprop,
# HME of depth 4 (16 linear-Gaussian experts, 15 gates) by EM, by Algorithm 2, by gradient, and on-line
# by recursive least squares.
# Prints the table beside the paper's and writes the run files, table.md and summary.h5.
#   run.sh [--seed S] [--out DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
seed=1
out="$root/results/jordan1994-hme-em"
while (($#)); do
  case "$1" in
    --seed) seed="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "run.sh: error: unknown argument '$1' (expected --seed S or --out DIR)" >&2; exit 2 ;;
  esac
done
bin="$root/build"
mkdir -p "$out"
data="$out/arm-seed$seed.csv"
[[ -s "$data" ]] || "$bin/moe-data" generate robot-arm --n 20000 --seed "$seed" --out "$data" >/dev/null

common=(--data "$data" --features q1,q2,q3,q4,qd1,qd2,qd3,qd4,tau1,tau2,tau3,tau4
        --target qdd1,qdd2,qdd3,qdd4 --task regression --test-fraction 0.25 --seed "$seed" --quiet)
hme=(--model hme --depth 4 --branching 2 --expert linear-gaussian --gate-init-scale 0.3)
# name | flags
runs=(
  "linear|--model mixture --experts 1 --expert linear-gaussian --trainer em --epochs 1"
  "mlp-60|--model mlp --hidden 60 --activation tanh --mlp-output linear --optimizer adam --learning-rate 0.003 --batch-size 100 --epochs 100"
  "hme-em|${hme[*]} --trainer em --epochs 100 --tolerance 1e-6"
  "hme-alg2|${hme[*]} --trainer em --gate-fit least-squares --epochs 100 --tolerance 1e-6"
  "hme-gradient|${hme[*]} --optimizer adam --learning-rate 0.03 --batch-size 100 --epochs 200"
  "hme-online|${hme[*]} --trainer online-em --epochs 2"
)
i=0
for r in "${runs[@]}"; do
  i=$((i + 1))
  name="${r%%|*}"
  echo "[$i/${#runs[@]}] $name" >&2
  # shellcheck disable=SC2086
  "$bin/moe-train" "${common[@]}" ${r#*|} -o "$out/$name-seed$seed.h5"
done
/usr/bin/python3 "$here/table.py" "$out" --seed "$seed"
