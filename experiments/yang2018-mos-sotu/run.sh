#!/usr/bin/env bash
# Softmax, mixture of contexts (MoC) and mixture of softmaxes (MoS) language models at equal d on the
# State of the Union corpus (moe-data fetch sotu), sized for a 2-core machine: the first --documents
# addresses (chronological), split by document 80/10/10, word tokens, vocabulary of the training words seen
# at least 3 times (at most 2000 entries), 3 previous words -> embeddings 64 -> tanh hidden 128 -> head
# with d = 32 (MoS/MoC: K = 5), Adam, minibatches of 128, at most E epochs with early stopping on the
# validation perplexity (patience 2, best weights restored), every head with every seed (one split, fixed
# by --split-seed 1, so seeds vary the initialisation and the minibatch order). Prints valid/test
# perplexity (mean and range over the seeds) beside the paper's, and the <unk> rate.
#   run.sh [--documents N] [--epochs E] [--seeds "1 2 3"] [--out DIR] [--threads T] [--force]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
documents=40
epochs=10
seeds="1 2 3"
threads=1
force=0
out="$root/results/yang2018-mos-sotu"
bin="${MOE_BIN:-$root/build}"
while (($#)); do
  case "$1" in
    --documents) documents="$2"; shift 2 ;;
    --epochs) epochs="$2"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
    --force) force=1; shift ;;
    --out) out="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "run.sh: error: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
corpus="$root/data/cache/sotu"
[[ -s "$corpus/corpus.txt" ]] || "$bin/moe-data" fetch sotu --out "$corpus"
mkdir -p "$out"
common=(--task lm --data "$corpus" --max-documents "$documents" --valid-fraction 0.1 --test-fraction 0.1
        --tokenizer word --min-count 3 --max-vocabulary 2000 --context 3 --embedding 64 --hidden 128
        --projection 32 --optimizer adam --learning-rate 0.003 --batch-size 128 --epochs "$epochs" --patience 2
        --split-seed 1 --threads "$threads" --quiet)
# The three heads, and the softmax head after a sparse MoE FFN layer (issue 5's network on text: 8 FFN
# experts of 128 hidden units on the encoder's 128-wide output, top-2, Switch loss 0.01).
models=("softmax|--head softmax" "moc|--head moc --experts 5" "mos|--head mos --experts 5"
        "softmax-moe|--head softmax --moe-layer --router topk --top-k 2 --experts 8 --d-ff 128 --switch-alpha 0.01")
for seed in $seeds; do
  for m in "${models[@]}"; do
    name="${m%%|*}-s$seed"
    if [[ $force == 0 && -s "$out/$name.h5" ]]; then echo "[$name] kept" >&2; continue; fi
    echo "[$name]" >&2
    # shellcheck disable=SC2086
    "$bin/moe-train" "${common[@]}" ${m#*|} --seed "$seed" -o "$out/$name.h5"
  done
done
/usr/bin/python3 "$here/table.py" "$out"
