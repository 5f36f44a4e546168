#!/usr/bin/env bash
# Time per epoch of full-batch gradient training of a mixture of 4 linear-Gaussian experts on 20000
# synthetic points with 2 inputs (the README's number). Prints the median and mean time of one epoch's
# update (forward, backward, optimiser step), over --epochs epochs, for each thread count given.
#   epoch_time.sh [--epochs N] [--threads "1 2"]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
epochs=200
threads="1 2"
while (($#)); do
  case "$1" in
    --epochs) epochs="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    *) echo "epoch_time.sh: error: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$root/build/moe-data" generate linear-mixture --n 20000 --inputs 2 --experts 4 --noise 0.1 --seed 1 \
  --out "$work/mix.csv" >/dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
for t in $threads; do
  "$root/build/moe-train" --data "$work/mix.csv" --features x1,x2 --target y --task regression \
    --model mixture --experts 4 --expert linear-gaussian --optimizer momentum --learning-rate 0.05 \
    --epochs "$epochs" --threads "$t" --quiet -o "$work/run-$t.h5"
  /usr/bin/python3 - "$work/run-$t.h5" "$t" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    s = f["history/seconds"][()]
    n = f["eval/train"].attrs["n"]
print(f"threads {sys.argv[2]}: {len(s)} epochs on {n} points, median {1e3*np.median(s):.3f} ms/epoch, "
      f"mean {1e3*np.mean(s):.3f} ms/epoch")
PY
done
