#!/usr/bin/env python3
"""The softmax bottleneck (Yang et al. 2017, docs/methods.md#mixture-of-softmaxes) in one figure, DIR/plot.png. Left: rank
of the log-probability matrix as a fraction of full rank against K, for MoS at each d we ran (paper-scale
tolerance, seed mean and range), beside the paper's MoS on PTB (rank of 10000) and the softmax's bound
(d + 1) / N; the true rank as a line. Right: loss above the true entropy against d, the softmax (seeds)
against MoS and MoC (each K), with the 0.02-nat "reaches" criterion and d = R - 1, where the softmax's
bottleneck ends.
Usage: plot.py RESULTS_DIR"""
import os
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from plot_common import plot_folder, save_plot  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import check  # noqa: E402
import table  # noqa: E402


def main():
    folder = plot_folder(__doc__)
    groups = check.read_groups(folder)
    if not groups:
        sys.exit(f"plot.py: error: no run files NAME-sSEED.h5 in '{folder}'")
    any_run = next(iter(groups.values()))[0]
    R = any_run["true_rank"]
    with h5py.File(os.path.join(folder, "language.h5"), "r") as f:
        n = min(int(f["language"].attrs["contexts"]), int(f["language"].attrs["words"]))

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    ds = sorted({d for (h, d, k) in groups if h == "mos"})
    for i, d in enumerate(ds):
        ks = sorted(k for (h, dd, k) in groups if h == "mos" and dd == d)
        ranks = [np.array([r["rank_paper"] for r in groups[("mos", d, k)]]) / n for k in ks]
        mean = [r.mean() for r in ranks]
        err = [[m - r.min() for m, r in zip(mean, ranks)], [r.max() - m for m, r in zip(mean, ranks)]]
        line = left.errorbar(ks, mean, yerr=err, marker="o", capsize=3, label=f"ours: MoS d={d}")
        left.axhline((d + 1) / n, color=line[0].get_color(), ls=":", lw=1)
    left.plot(list(table.PAPER_K), np.array(list(table.PAPER_K.values())) / 10000, "k^--",
              label="paper: MoS on PTB (of 10000)")
    left.axhline(R / n, color="grey", lw=1)
    left.text(0.02, R / n, f"true rank {R}", va="bottom", fontsize=8, transform=left.get_yaxis_transform())
    left.set_xlabel("K (mixture components)")
    left.set_ylabel("rank / full rank (paper-scale tolerance)")
    left.set_title(f"log-prob rank grows with K, then saturates\n(dotted: softmax bound (d+1)/{n})", fontsize=10)
    left.set_ylim(0, 1.05)
    left.legend(fontsize=8, loc="lower right")

    soft = sorted((d, runs) for (h, d, k), runs in groups.items() if h == "softmax")
    if soft:
        right.plot([d for d, _ in soft], [np.mean([r["gap"] for r in runs]) for _, runs in soft], "ko-",
                   label="softmax")
    for head, name in (("mos", "MoS"), ("moc", "MoC")):
        pts = sorted((k, d, runs) for (h, d, k), runs in groups.items() if h == head and k >= 2)
        for i, k in enumerate(sorted({p[0] for p in pts})):
            sel = [(d, np.mean([r["gap"] for r in runs])) for kk, d, runs in pts if kk == k]
            style = dict(color=f"C{i}") if head == "mos" else dict(marker="s", s=80, facecolors="none", edgecolors="r")
            right.scatter([s[0] for s in sel], [s[1] for s in sel], label=f"{name} K={k}", zorder=3, **style)
    right.axhline(table.REACHED_NATS, color="r", ls="--", lw=1, label=f"reaches: {table.REACHED_NATS} nats")
    right.axvline(R - 1, color="grey", lw=1)
    right.text(R - 1, 0.97, f" d = R - 1 = {R - 1}", fontsize=8, va="top", transform=right.get_xaxis_transform())
    right.set_xscale("log", base=2)
    right.set_yscale("log")
    right.set_xlabel("d (projection size)")
    right.set_ylabel("loss - true entropy (nats, seed mean)")
    right.set_title("softmax stays above the truth for d < R - 1; MoS closes the gap", fontsize=10)
    right.legend(fontsize=7, ncol=2)
    fig.suptitle(f"Softmax bottleneck on a synthetic language ({int(any_run['epochs'])} epochs; paper: Yang et al. 2017)")
    save_plot(fig, folder)


if __name__ == "__main__":
    main()
