#!/usr/bin/env python3
"""Table of the rank experiment from the run files of run.sh.

gap: the model's cross-entropy minus the true entropy of the language (nats per word, mean over the
contexts); 0 is the best any model can do. rank: empirical rank of the model's 128 x 128 log-probability
matrix, singular values above sigma_max * 128 * eps (numpy.linalg.matrix_rank's tolerance); also at the
looser relative tolerance 1e-2 (where the growth with K shows)."""
import argparse
import glob
import os

import h5py
import numpy as np

REACHED = 0.063  # nats, 2% of the true entropy (3.149): "reaches the true cross-entropy" means a gap below this


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
                             seconds=float(f["history"].attrs["train_seconds"])))
    order = {"softmax": 0, "mos": 1, "moc": 2}
    rows.sort(key=lambda r: (order[r["head"]], r["d"], r["k"]))
    lines = [f"Synthetic language: {lang['contexts']} contexts x {lang['words']} words, logit rank {lang['rank']}, "
             f"true entropy {lang['entropy']:.4f} nats, true log-prob rank {rows[0]['true_rank']}", "",
             "| head | d | K | loss - true entropy (nats) | reaches (< %.3f) | rank (eps tol.) | rank (1e-2 rel.) | bound d+1 | seconds |" % REACHED,
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        bound = str(r["d"] + 1) if r["head"] != "mos" or r["k"] == 1 else "-"
        lines.append(f"| {r['head']} | {r['d']} | {r['k']} | {r['gap']:.4f} | {'yes' if r['gap'] < REACHED else 'no'} | "
                     f"{r['rank']} | {r['rank6']} | {bound} | {r['seconds']:.1f} |")
    table = "\n".join(lines)
    print(table)
    with open(os.path.join(args.results, "table.md"), "w") as out:
        out.write(table + "\n")


if __name__ == "__main__":
    main()
