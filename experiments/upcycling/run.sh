#!/usr/bin/env bash
# Sparse upcycling (Komatsuzaki et al. 2022) against continued dense training at equal extra compute, on
# Fashion-MNIST. A dense network (one FFN of d_ff 64: --experts 1) trains for B epochs; then
#   upcycled:        its FFN copied into 8 experts, a fresh top-2 router, M more epochs
#   dense-continued: the same dense network, round(M x F) more epochs, F = the upcycled model's forward
#                    FLOPs per token over the dense one's (so both spend the same extra compute)
#   scratch:         the 8-expert top-2 model from random weights for B + M epochs (reference)
# Both continuations restart Adam. Prints test quality in one table; writes the run files and table.md.
#   run.sh [--base-epochs B] [--more-epochs M] [--seeds "1 2 3"] [--out DIR] [--force]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
base=5
more=5
seeds="1 2 3"
out="$root/results/upcycling"
study_option() {
  case "$1" in
    --base-epochs) base="$2" ;;
    --more-epochs) more="$2" ;;
    *) return 1 ;;
  esac
}
epochs=""
source "$root/experiments/lib/sparse_study.sh"
parse_study_args "$@"
[[ -z "$epochs" ]] || { echo "run.sh: error: --epochs does not apply here (--base-epochs, --more-epochs)" >&2; exit 2; }
mkdir -p "$out"
fashion_data
# Forward FLOPs per token: embedding 2*784*64, k FFNs of 2*(2*64*64), router 2*64*E, output 2*64*10.
read -r dense_more ratio < <(/usr/bin/python3 -c "
f = lambda E, k: 2*784*64 + k*2*2*64*64 + 2*64*E + 2*64*10
r = f(8, 2) / f(1, 1)
print(max(1, round($more * r)), r)")
echo "upcycling: compute ratio $ratio, dense continues $dense_more epochs against $more" >&2
for seed in $seeds; do
  run_one "dense-s$seed" --router topk --experts 1 --top-k 1 --d-ff 64 --epochs "$base" --seed "$seed"
  run_one "dense-continued-s$seed" --router topk --experts 1 --top-k 1 --d-ff 64 --epochs "$dense_more" \
    --seed "$seed" --upcycle-from "$out/dense-s$seed.h5"
  run_one "upcycled-s$seed" --router topk --experts 8 --top-k 2 --d-ff 64 --epochs "$more" --seed "$seed" \
    --upcycle-from "$out/dense-s$seed.h5"
  run_one "scratch-s$seed" --router topk --experts 8 --top-k 2 --d-ff 64 --epochs $((base + more)) --seed "$seed"
done
/usr/bin/python3 "$here/table.py" "$out" --ratio "$ratio"
