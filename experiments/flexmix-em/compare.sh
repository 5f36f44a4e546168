#!/usr/bin/env bash
# Our EM against R's flexmix on one data set: a mixture of 4 linear-Gaussian experts with a multinomial
# (softmax) gate, 20000 points, 2 inputs (moe-data generate linear-mixture). Prints each one's time per EM
# iteration and log-likelihood per point, and the speed ratio. Needs Debian's r-cran-flexmix.
#   compare.sh [--iterations N] [--seed S] [--threads T]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${MOE_BIN:-$root/build}"  # where moe-data and moe-train are
iterations=200
seed=1
threads=1
while (($#)); do
  case "$1" in
    --iterations) iterations="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    *) echo "compare.sh: error: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
command -v Rscript >/dev/null || { echo "compare.sh: error: R not found: apt-get install r-cran-flexmix" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$bin/moe-data" generate linear-mixture --n 20000 --inputs 2 --experts 4 --seed "$seed" \
  --out "$work/data.csv" >/dev/null
best=""
for s in 1 2 3 4 5; do  # five starts, as one would with a local optimiser; time is per iteration
  "$bin/moe-train" --data "$work/data.csv" --features x1,x2 --target y --task regression \
    --model mixture --experts 4 --expert linear-gaussian --trainer em --epochs "$iterations" --tolerance 1e-10 \
    --gate-init-scale 0.5 --seed "$s" --threads "$threads" --quiet -o "$work/em-$s.h5"
done
ours=$(/usr/bin/python3 - "$work" <<'PY'
import glob, sys, h5py, numpy as np
rows = []
for p in sorted(glob.glob(sys.argv[1] + "/em-*.h5")):
    with h5py.File(p, "r") as f:
        seconds = f["history/seconds"][()]
        rows.append((-f["eval/train"].attrs["loss"], seconds.sum(), len(seconds)))
# Time per iteration: the EM steps alone (history/seconds: no set-up, no per-epoch evaluation) of all
# iterations of all starts, each run to convergence at relative tolerance 1e-10 as flexmix is, total time
# over total iterations. flexmix's is the slope without its set-up (flexmix_fit.R).
print(max(r[0] for r in rows), 1e3 * sum(r[1] for r in rows) / sum(r[2] for r in rows), sum(r[2] for r in rows))
PY
)
read -r ours_ll ours_ms ours_iterations <<<"$ours"
theirs=$(Rscript "$here/flexmix_fit.R" "$work/data.csv" "$iterations" "$seed")
echo "$theirs"
theirs_ms=$(sed -E 's/.*, ([0-9.]+) ms per iteration.*/\1/' <<<"$theirs")
theirs_ll=$(sed -E 's/.*log-likelihood per point ([-0-9.]+).*/\1/' <<<"$theirs")
printf 'moekit EM (%s thread(s)): %.2f ms per iteration (%s iterations over 5 starts, each to convergence), log-likelihood per point %.6f (best start)\n' \
  "$threads" "$ours_ms" "$ours_iterations" "$ours_ll"
/usr/bin/python3 -c "import sys; a,b,c,d=map(float,sys.argv[1:]); print(f'speed ratio flexmix/moekit: {a/b:.1f}x; log-likelihood difference moekit - flexmix: {c-d:+.6f}')" \
  "$theirs_ms" "$ours_ms" "$ours_ll" "$theirs_ll"
