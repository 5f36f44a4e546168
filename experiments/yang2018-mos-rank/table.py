#!/usr/bin/env python3
"""Table of the rank experiment from the run files of run.sh.

gap: the model's cross-entropy minus the true entropy of the language (nats per word, mean over the
contexts); 0 is the best any model can do. rank: empirical rank of the model's 128 x 128 log-probability
matrix, singular values above sigma_max * 128 * eps (numpy.linalg.matrix_rank's tolerance); also at the
looser relative tolerance 1e-2 (where the growth with K shows).

reaches: the tolerance is fixed by the design, not by the results: a model at projection size d "reaches the
true cross-entropy" when its gap is below REACHED_FRACTION = 10% of the gap of the softmax at the same d
(the bottleneck's cost at that d; the softmax's own row is measured against the truth's 0, so it never
"reaches" unless its gap is itself ~0, printed as the gap). For d = 8 that is 0.1 x 0.607 = 0.061 nats."""
import argparse
import glob
import os

import h5py
import numpy as np

REACHED_FRACTION = 0.1  # of the same-d softmax's gap: "reaches the true cross-entropy" means a gap below this


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("results")
    args = ap.parse_args()
    with h5py.File(os.path.join(args.results, "language.h5"), "r") as f:
        lang = dict(f["language"].attrs)
    rows = []
    for path in sorted(glob.glob(os.path.join(args.results, "*-d*.h5"))):
        with h5py.File(path, "r") as f:
            m, e = f["model"].attrs, f["eval/train"]
            s = e["rank/singular_values"][()]
            rows.append(dict(head=m["head"], d=int(m["projection"]), k=int(m["experts"]) if m["head"] != "softmax" else 1,
                             gap=e.attrs["loss"] - e.attrs["target_entropy"], rank=int(e["rank"].attrs["rank"]),
                             rank6=int(np.sum(s > s.max() * 1e-2)), true_rank=int(e.attrs["target_rank"]),
                             seconds=float(f["history"].attrs["train_seconds"]),
                             epochs=len(f["history/loss"])))
    order = {"softmax": 0, "mos": 1, "moc": 2}
    rows.sort(key=lambda r: (order[r["head"]], r["d"], r["k"]))
    softmax_gap = {r["d"]: r["gap"] for r in rows if r["head"] == "softmax"}
    for r in rows:
        r["tol"] = REACHED_FRACTION * softmax_gap[r["d"]] if r["d"] in softmax_gap else float("nan")
    lines = [f"Synthetic language: {lang['contexts']} contexts x {lang['words']} words, logit rank {lang['rank']}, "
             f"true entropy {lang['entropy']:.4f} nats, true log-prob rank {rows[0]['true_rank']}", "",
             f"epochs {'/'.join(str(e) for e in sorted({r['epochs'] for r in rows}))}"
             f"{' (MIXED: rerun with run.sh --force)' if len({r['epochs'] for r in rows}) > 1 else ''}; reaches: gap < {REACHED_FRACTION:g} x the gap of the softmax at the same d", "",
             "| head | d | K | loss - true entropy (nats) | tolerance (nats) | reaches | rank (eps tol.) | rank (1e-2 rel.) | bound d+1 | seconds |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        bound = str(r["d"] + 1) if r["head"] != "mos" or r["k"] == 1 else "-"
        reach = "-" if r["head"] == "softmax" else ("yes" if r["gap"] < r["tol"] else "no")
        lines.append(f"| {r['head']} | {r['d']} | {r['k']} | {r['gap']:.4f} | "
                     f"{'-' if r['head'] == 'softmax' else format(r['tol'], '.4f')} | {reach} | "
                     f"{r['rank']} | {r['rank6']} | {bound} | {r['seconds']:.1f} |")
    table = "\n".join(lines)
    print(table)
    with open(os.path.join(args.results, "table.md"), "w") as out:
        out.write(table + "\n")


if __name__ == "__main__":
    main()
