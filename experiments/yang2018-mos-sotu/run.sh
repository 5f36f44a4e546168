#!/usr/bin/env bash
# Softmax, mixture of contexts (MoC) and mixture of softmaxes (MoS) language models at equal d on the
# State of the Union corpus (moe-data fetch sotu), sized for a 2-core machine (sweep.toml): the first
# --documents addresses (chronological), split by document 80/10/10, word tokens, vocabulary of the training
# words seen at least 3 times (at most 2000 entries), 3 previous words -> embeddings 64 -> tanh hidden 128
# -> head with d = 32 (MoS/MoC: K = 5), Adam, minibatches of 128, at most E epochs with early stopping on
# the validation perplexity (patience 2, best weights restored), every head with every seed (one split,
# fixed by --split-seed 1, so seeds vary the initialisation and the minibatch order); and the softmax after
# a sparse MoE FFN layer (softmax-moe). Prints valid/test perplexity (mean and range over the seeds) beside
# the paper's and the <unk> rate; writes the run files HEAD-sSEED.h5, table.md and plot.png. Complete runs
# in DIR are kept (--force reruns them).
#   run.sh [--quick] [--documents N] [--epochs E] [--seeds "1 2 3"] [--heads "softmax moc mos softmax-moe"]
#          [--out DIR] [--threads T] [--jobs J] [--force]
# Full (the defaults; results/yang2018-mos-sotu): 12 runs, about 25 minutes of CPU on a 2-core AMD EPYC.
# --quick (results/yang2018-mos-sotu-quick): softmax and MoS only, seed 1, 3 epochs (the same 40
# addresses and split), 1 thread; options after --quick override it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
source "$root/experiments/lib/args.sh"
documents=40
epochs=10
seeds="1 2 3"
heads="softmax moc mos softmax-moe"
threads=1
jobs=1
force=()
out="$root/results/yang2018-mos-sotu"
bin="${MOE_BIN:-$root/build}"
while (($#)); do
  case "$1" in
    # Quick: the two heads the shape is about, one seed, 3 epochs (the full runs stop at 6-7, best at 4-5),
    # on the full run's split: 20 addresses instead gave a validation set of 2 short addresses (4400
    # tokens), where the two heads' seeds overlapped (README: measured outcome and CPU time).
    --quick) epochs=3; seeds="1"; heads="softmax mos"; threads=1
             out="$root/results/yang2018-mos-sotu-quick"; shift ;;
    --documents) need_value "$@"; documents="$2"; shift 2 ;;
    --epochs) need_value "$@"; epochs="$2"; shift 2 ;;
    --seeds) need_value "$@"; seeds="$2"; shift 2 ;;
    --heads) need_value "$@"; heads="$2"; shift 2 ;;
    --force) force=(--force); shift ;;
    --out) need_value "$@"; out="$2"; shift 2 ;;
    --threads) need_value "$@"; threads="$2"; shift 2 ;;
    --jobs) need_value "$@"; jobs="$2"; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "run.sh: error: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
for v in documents epochs jobs; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: error: --$v must be a positive integer (got '${!v}')" >&2; exit 2; }
done
[[ -x "$bin/moe-train" ]] || { echo "run.sh: error: $bin/moe-train not built (bash scripts/build.sh, or set MOE_BIN)" >&2; exit 1; }
corpus="$root/data/cache/sotu"
[[ -s "$corpus/corpus.txt" ]] || "$bin/moe-data" fetch sotu --out "$corpus"
mkdir -p "$out"
out="$(cd "$out" && pwd)"  # sweep.py runs from the repository root: give it absolute paths
list() { local IFS=,; echo "$*"; }  # "1 2 3" -> 1,2,3 (called unquoted to split the words)
# shellcheck disable=SC2086
/usr/bin/python3 "$here/../lib/sweep.py" "$here/sweep.toml" run --out "$out" --jobs "$jobs" "${force[@]}" \
  --set "data=$corpus" --set "setting=$(list $heads)" --set "seed=$(list $seeds)" \
  --set "max-documents=$documents" --set "epochs=$epochs" --set "threads=$threads"
/usr/bin/python3 "$here/table.py" "$out"
/usr/bin/python3 "$here/plot.py" "$out"
