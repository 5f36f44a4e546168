#!/usr/bin/env python3
"""Table of the Jordan & Jacobs (1994) rerun from the run files of run.sh.

Relative error: test mean squared error divided by the test variance, per output, averaged over the 4
outputs (the paper's definition). Epochs to convergence: the first epoch whose training MSE is within 1%
of the run's final training MSE (the paper does not define it precisely; this is ours)."""
import argparse
import os

import h5py
import numpy as np

ROWS = [  # name, label, paper relative error, paper epochs
    ("linear", "linear", 0.31, "1"),
    ("mlp-60", "backprop, 60 hidden", 0.09, "5500"),
    ("hme-em", "HME depth 4, EM", 0.10, "35"),
    ("hme-alg2", "HME depth 4, Algorithm 2", 0.12, "39"),
    ("hme-gradient", "HME depth 4, gradient", 0.15, "104 (online)"),
    ("hme-online", "HME depth 4, on-line RLS", 0.12, "2"),
]


def relative_error(f, part):
    y = f[f"eval/{part}/targets"][()]
    p = f[f"eval/{part}/predictions"][()]
    return float(np.mean(np.mean((y - p) ** 2, axis=1) / np.var(y, axis=1)))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("results")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    lines = ["| model | test relative error | train relative error | epochs to convergence | epochs run | "
             "seconds | paper relative error | paper epochs |", "|" + "---|" * 8]
    summary = {}
    for name, label, paper_err, paper_epochs in ROWS:
        with h5py.File(os.path.join(args.results, f"{name}-seed{args.seed}.h5"), "r") as f:
            curve = f["history/train_metric"][()]
            conv = int(np.argmax(curve <= 1.01 * curve[-1])) + 1
            row = dict(test=relative_error(f, "test"), train=relative_error(f, "train"), epochs=conv,
                       run=len(curve), seconds=float(f["history"].attrs["train_seconds"]))
        summary[name] = row
        lines.append(f"| {label} | {row['test']:.3f} | {row['train']:.3f} | {row['epochs']} | {row['run']} | "
                     f"{row['seconds']:.1f} | {paper_err:.2f} | {paper_epochs} |")
    table = "\n".join(lines)
    print(f"Jordan & Jacobs (1994), simulated 4-joint arm, 15000 train / 5000 test (seed {args.seed})\n")
    print(table)
    with open(os.path.join(args.results, "table.md"), "w") as out:
        out.write(table + "\n")
    tmp = os.path.join(args.results, "summary.h5.tmp")
    with h5py.File(tmp, "w") as f:
        f.attrs["study"] = "jordan1994-hme-em"
        for name, row in summary.items():
            for key, value in row.items():
                f[f"{name}/{key}"] = value
    os.replace(tmp, os.path.join(args.results, "summary.h5"))


if __name__ == "__main__":
    main()
