#!/usr/bin/env python3
"""Jordan & Jacobs (1994) in one figure, DIR/plot.png: every model's training relative error (training MSE
over the training targets' variance) against the epoch, log scale, with the paper's relative errors placed
at the paper's epoch counts (open markers, same colour; the paper's are test errors, the final test errors
of our runs are the filled markers at their last epoch). The published shape: EM reaches about backprop's
error in tens of epochs, batch backprop needed thousands.
Usage: plot.py RESULTS_DIR [--seed S]   (default: the folder's first seed)"""
import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from plot_common import save_plot  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import table  # noqa: E402

# The paper's (epochs, test relative error) for each of our rows (docs/methods.md#hierarchical-mixtures-of-experts-and-em).
PAPER = {"linear": [(1, 0.31)], "mlp-60": [(5500, 0.09), (63, 0.08)], "hme-em": [(35, 0.10)],
         "hme-alg2": [(39, 0.12)], "hme-gradient": [(104, 0.15)], "hme-online": [(2, 0.12)]}
PAPER_NOTE = {"mlp-60": "paper: batch 5500, on-line 63"}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    ap.add_argument("--seed", type=int)
    args = ap.parse_args()
    found = table.seeds(args.results)
    if not found:
        table.fail(f"no run files (SETTING-seedS.h5) in '{args.results}'")
    seed = args.seed if args.seed is not None else found[0]
    rows = table.read_rows(args.results, seed)

    fig, ax = plt.subplots(figsize=(9, 5.5))
    for i, (name, label, *_) in enumerate(table.ROWS):
        r, c = rows[name], f"C{i}"
        rel = r["curve"] / r["train_variance"]
        epochs = np.arange(1, len(rel) + 1)
        ax.plot(epochs, rel, color=c, lw=1.5, marker="." if len(rel) < 5 else None, label=label)
        ax.plot(len(rel), r["test"], "o", color=c, ms=6)
        for e, err in PAPER[name]:
            ax.plot(e, err, "D", mfc="none", mec=c, ms=8, mew=1.5)
        if name in PAPER_NOTE:
            ax.annotate(PAPER_NOTE[name], PAPER[name][0], textcoords="offset points", xytext=(-60, 10),
                        fontsize=8, color=c)
    ax.plot([], [], "o", color="grey", label="ours: final test relative error")
    ax.plot([], [], "D", mfc="none", mec="grey", label="paper: test relative error at its epochs")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(top=4)  # room for the legend above the curves
    ax.set_xlabel("epoch")
    ax.set_ylabel("relative error (MSE / variance)")
    ax.set_title(f"Jordan & Jacobs (1994), 4-joint arm, {rows['hme-em']['n_train']} training points, seed {seed}:\n"
                 "training relative error by epoch (lines)", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    save_plot(fig, args.results, dpi=100)


if __name__ == "__main__":
    main()
