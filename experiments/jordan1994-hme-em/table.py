#!/usr/bin/env python3
"""Table of the Jordan & Jacobs (1994) rerun from the run files of run.sh (SETTING-seedS.h5); writes table.md
and summary.h5 into the results folder. check.py and plot.py read the runs through read_rows() below.

Relative error: test mean squared error divided by the test variance, per output, averaged over the 4
outputs (the paper's definition). Epochs to convergence: the first epoch whose training MSE is within 1%
of the run's final training MSE (the paper does not define it precisely; this is ours).
Usage: table.py RESULTS_DIR [--seed S] [--data CSV]   (--data: stop if a run was trained on another file)"""
import argparse
import glob
import os
import re
import sys
import tomllib

import h5py
import numpy as np

ROWS = [  # name, label, paper relative error, paper epochs (docs/methods.md#hierarchical-mixtures-of-experts-and-em)
    ("linear", "linear", 0.31, "1"),
    ("mlp-60", "backprop, 60 hidden (Adam, minibatches of 100)", 0.09, "5500 (batch); on-line 0.08 (63)"),
    ("hme-em", "HME depth 4, EM", 0.10, "35"),
    ("hme-alg2", "HME depth 4, Algorithm 2", 0.12, "39"),
    ("hme-gradient", "HME depth 4, gradient (Adam, minibatches of 100)", 0.15, "104 (on-line)"),
    ("hme-online", "HME depth 4, on-line RLS", 0.12, "2"),
]
CONVERGED = 0.01  # "converged": training MSE within 1% of the run's final one


def fail(message):
    """A one-line error and exit status 2 (bad input), for this script and the ones that import it."""
    print(f"{os.path.basename(sys.argv[0])}: error: {message}", file=sys.stderr)
    sys.exit(2)


def relative_error(f, part):
    y = f[f"eval/{part}/targets"][()]
    p = f[f"eval/{part}/predictions"][()]
    return float(np.mean(np.mean((y - p) ** 2, axis=1) / np.var(y, axis=1)))


def seeds(folder):
    """The seeds of the folder's run files, in order."""
    found = {int(m[1]) for p in glob.glob(os.path.join(folder, "*-seed*.h5"))
             if (m := re.search(r"-seed(\d+)\.h5$", p))}
    return sorted(found)


def read_rows(folder, seed):
    """{name: row} for the seed's runs: test/train relative error, epochs to convergence, the training
    MSE curve (training targets, unstandardised) and its variance, the data file it was trained on."""
    rows = {}
    for name, *_ in ROWS:
        path = os.path.join(folder, f"{name}-seed{seed}.h5")
        if not os.path.exists(path):
            fail(f"missing run file {path}")
        with h5py.File(path, "r") as f:
            curve = f["history/train_metric"][()]
            y = f["eval/train/targets"][()]
            rows[name] = dict(test=relative_error(f, "test"), train=relative_error(f, "train"),
                              epochs=int(np.argmax(curve <= (1 + CONVERGED) * curve[-1])) + 1, run=len(curve),
                              seconds=float(f["history"].attrs["train_seconds"]), curve=curve,
                              train_variance=float(np.mean(np.var(y, axis=1))), n_train=y.shape[1],
                              n_test=int(f["eval/test"].attrs["n"]),
                              data=tomllib.loads(f.attrs["config"])["data"])
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", help="the arm's CSV every run must have been trained on")
    args = ap.parse_args()
    rows = read_rows(args.results, args.seed)
    if args.data:
        other = [n for n, r in rows.items() if os.path.abspath(r["data"]) != os.path.abspath(args.data)]
        if other:
            fail(f"{other[0]}-seed{args.seed}.h5 in '{args.results}' was trained on "
                     f"{rows[other[0]]['data']}, not {args.data}: rerun with --force or another --out")
    lines = ["| model | test relative error | train relative error | epochs to convergence | epochs run | "
             "seconds | paper relative error | paper epochs |", "|" + "---|" * 8]
    for name, label, paper_err, paper_epochs in ROWS:
        row = rows[name]
        lines.append(f"| {label} | {row['test']:.3f} | {row['train']:.3f} | {row['epochs']} | {row['run']} | "
                     f"{row['seconds']:.1f} | {paper_err:.2f} | {paper_epochs} |")
    r = rows["hme-em"]
    caption = (f"Jordan & Jacobs (1994), simulated 4-joint arm, {r['n_train']} train / {r['n_test']} test points "
               f"(seed {args.seed}); seconds: the updates alone, 1 thread")
    table = "\n".join(lines)
    print(caption + "\n")
    print(table)
    with open(os.path.join(args.results, "table.md"), "w") as out:
        out.write(caption + ".\n\n" + table + "\n")
    tmp = os.path.join(args.results, "summary.h5.tmp")
    with h5py.File(tmp, "w") as f:
        f.attrs["study"] = "jordan1994-hme-em"
        f.attrs["seed"] = args.seed
        for name, row in rows.items():
            for key in ("test", "train", "epochs", "run", "seconds"):
                f[f"{name}/{key}"] = row[key]
    os.replace(tmp, os.path.join(args.results, "summary.h5"))


if __name__ == "__main__":
    main()
