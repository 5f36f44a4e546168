#!/usr/bin/env python3
"""Shape checks of the State of the Union runs against Yang et al. (2017) (docs/methods.md#mixture-of-softmaxes: on real
text MoS beats the softmax at equal d; a single softmax's log-probability matrix has rank <= d + 1, the
mixture's does not). On the run files HEAD-sSEED.h5 of run.sh (seed means; every head must have the same
d, or the comparison is not at equal d):
  1. MoS's validation perplexity is below the softmax's.
  2. MoS's test perplexity is below the softmax's.
  3. the softmax's test log-probability matrix (1000 distinct test contexts x V words, numpy's tolerance)
     has rank <= d + 1 in every seed, and MoS's exceeds d + 1 in every seed.
No margin on 1 and 2: the paper's claim is the ordering (its gains: PTB 3.5 / 2.9 valid / test, WT2 4.7 /
4.4 points, from much larger models); an INFO line gives the seed ranges, so a reader sees whether the
ordering is clear of the seed noise. INFO: MoC and the softmax after a sparse MoE layer when present.
Usage: check.py RESULTS_DIR   (the folder run.sh wrote)"""
import glob
import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from shape_check import Checks, results_folder  # noqa: E402

HEADS = ("softmax", "moc", "mos", "softmax-moe")


def read_heads(folder):
    """head -> list of dicts (one per seed): d, valid and test perplexity, test rank."""
    heads = {}
    for head in HEADS:
        for path in sorted(glob.glob(os.path.join(folder, head + "-s[0-9]*.h5"))):
            with h5py.File(path, "r") as f:
                heads.setdefault(head, []).append(dict(
                    d=int(f["model"].attrs["projection"]), valid=float(f["eval/valid"].attrs["perplexity"]),
                    test=float(f["eval/test"].attrs["perplexity"]), rank=int(f["eval/test/rank"].attrs["rank"]),
                    epochs=len(f["history/seconds"]), best=int(f["history"].attrs["best_epoch"])))
    return heads


def span(runs, key):
    v = [r[key] for r in runs]
    return f"{np.mean(v):.1f}" + (f" ({min(v):.1f}-{max(v):.1f})" if len(v) > 1 else "")


def main():
    folder = results_folder(__doc__)
    heads = read_heads(folder)
    if "softmax" not in heads or "mos" not in heads:
        print(f"check.py: error: '{folder}' needs softmax-sSEED.h5 and mos-sSEED.h5 run files", file=sys.stderr)
        sys.exit(2)
    checks = Checks()
    soft, mos = heads["softmax"], heads["mos"]
    ds = sorted({r["d"] for runs in heads.values() for r in runs})
    if len(ds) != 1:
        checks.check(False, f"all heads at equal d: found d = {ds}")
    d = ds[0]
    for part, paper in (("valid", "PTB 60.0 -> 56.54, WT2 68.6 -> 63.88"), ("test", "PTB 57.3 -> 54.44, WT2 65.8 -> 61.45")):
        s, m = np.mean([r[part] for r in soft]), np.mean([r[part] for r in mos])
        checks.check(m < s, f"MoS {part} perplexity {m:.2f} < softmax {s:.2f} at d = {d} "
                            f"({len(mos)}/{len(soft)} seeds; difference {m - s:+.2f}; paper {paper})")
    checks.check(all(r["rank"] <= d + 1 for r in soft) and all(r["rank"] > d + 1 for r in mos),
                 f"test log-prob rank: softmax {'/'.join(str(r['rank']) for r in soft)} <= d + 1 = {d + 1} < "
                 f"MoS {'/'.join(str(r['rank']) for r in mos)}")
    for head, runs in heads.items():
        epochs = "/".join(f"{r['epochs']} ({r['best']})" for r in runs)
        checks.info(f"{head}: valid {span(runs, 'valid')}, test {span(runs, 'test')}, rank "
                    f"{'/'.join(str(r['rank']) for r in runs)}, epochs (best) {epochs}")
    checks.finish()


if __name__ == "__main__":
    main()
