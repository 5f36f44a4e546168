#!/usr/bin/env bash
# Softmax, mixture of contexts (MoC) and mixture of softmaxes (MoS) language models at equal d on the
# State of the Union corpus (moe-data fetch sotu), sized for a 2-core machine: the first --documents
# addresses (chronological), split by document 80/10/10, word tokens, vocabulary of the training words seen
# at least 3 times (at most 2000 entries), 3 previous words -> embeddings 64 -> tanh hidden 128 -> head
# with d = 32 (MoS/MoC: K = 5), Adam, minibatches of 128. Prints valid/test perplexity beside the paper's.
#   run.sh [--documents N] [--epochs E] [--out DIR] [--threads T]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
documents=40
epochs=2
threads=2
out="$root/results/yang2018-mos-sotu"
bin="${MOE_BIN:-$root/build}"
while (($#)); do
  case "$1" in
    --documents) documents="$2"; shift 2 ;;
    --epochs) epochs="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "run.sh: error: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
corpus="$root/data/cache/sotu"
[[ -s "$corpus/corpus.txt" ]] || "$bin/moe-data" fetch sotu --out "$corpus"
mkdir -p "$out"
common=(--task lm --data "$corpus" --max-documents "$documents" --valid-fraction 0.1 --test-fraction 0.1
        --tokenizer word --min-count 3 --max-vocabulary 2000 --context 3 --embedding 64 --hidden 128
        --projection 32 --optimizer adam --learning-rate 0.003 --batch-size 128 --epochs "$epochs" --seed 1
        --threads "$threads" --quiet)
for head in softmax moc mos; do
  echo "[$head]" >&2
  "$bin/moe-train" "${common[@]}" --head "$head" --experts 5 -o "$out/$head.h5"
done
/usr/bin/python3 "$here/table.py" "$out"
