#!/usr/bin/env bash
# Sparse upcycling (Komatsuzaki et al. 2022) against continued dense training at equal extra compute, on
# Fashion-MNIST. A dense network (one FFN of d_ff 64: --experts 1) trains for B epochs (dense.toml); then
#   upcycled:        its FFN copied into 8 experts, a fresh top-2 router, M more epochs (upcycled.toml)
#   dense-continued: the same dense network, round(M x F) more epochs, F = the upcycled model's forward
#                    FLOPs per token over the dense one's, so both spend the same extra compute
#                    (dense-continued.toml)
#   scratch:         the 8-expert top-2 model from random weights for B + M epochs (scratch.toml; reference)
# Both continuations restart Adam. The manifests run through experiments/lib/sweep.py, stage 2 after stage
# 1 and once per seed (its flag --upcycle-from names the seed's dense file). Prints test quality in one
# table; writes the run files, table.md and plot.png. Complete run files are kept (--force reruns them).
#   run.sh [--quick] [--base-epochs B] [--more-epochs M] [--seeds "1 2 3"] [--out DIR] [--jobs N] [--force]
# Full (default): B = 5, M = 5, seeds 1-3, 12 runs. --quick: the same epochs, seed 1, 4 runs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
source "$root/experiments/lib/args.sh"
base=5
more=5
seeds="1 2 3"
quick_seeds="1"
out="$root/results/upcycling"
study_option() {
  case "$1" in
    --base-epochs) need_value "$@"; base="$2" ;;
    --more-epochs) need_value "$@"; more="$2" ;;
    *) return 1 ;;
  esac
}
epochs=""
source "$root/experiments/lib/sparse_study.sh"
parse_study_args "$@"
[[ -z "$epochs" ]] || { echo "run.sh: error: --epochs does not apply here (--base-epochs, --more-epochs)" >&2; exit 2; }
for v in base more; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: error: --$v-epochs must be a positive integer (got '${!v}')" >&2; exit 2; }
done
fashion_data
# Forward FLOPs per token: embedding 2*784*64, k FFNs of 2*(2*64*64), router 2*64*E, output 2*64*10.
read -r dense_more ratio < <(/usr/bin/python3 -c "
f = lambda E, k: 2*784*64 + k*2*2*64*64 + 2*64*E + 2*64*10
r = f(8, 2) / f(1, 1)
print(max(1, round($more * r)), r)")
echo "upcycling: compute ratio $ratio, dense continues $dense_more epochs against $more" >&2
sweep "$here/dense.toml" --set "epochs=$base"
sweep "$here/scratch.toml" --set "epochs=$((base + more))"
for seed in $seeds; do
  seeds="$seed" sweep "$here/upcycled.toml" --set "epochs=$more" --set "upcycle-from=$out/dense-s$seed.h5"
  seeds="$seed" sweep "$here/dense-continued.toml" --set "epochs=$dense_more" --set "upcycle-from=$out/dense-s$seed.h5"
done
plot_and_table --ratio "$ratio"
