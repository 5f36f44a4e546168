#!/usr/bin/env python3
"""Hampshire & Waibel (1992) meta-pi rerun in one figure, DIR/plot.png; one row per data set. Left: test
accuracy of one network trained on everyone against meta-pi (mean over runs, a dot per run), with the
paper's 95.9% and 98.4% (its task, ATR /b,d,g/, is not ours: the comparison is which bar is higher).
Middle: the frozen meta-pi's mean gate weight on the test speakers, by true type (rows) and expert
(columns): the paper's gate routes each speaker to the matching module, a bright diagonal. Right: each
type's test speakers when their expert is removed (the gate's blend of the other two) against the full
meta-pi and the best remaining expert alone.
Usage: plot.py RESULTS_DIR"""
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from plot_common import plot_folder, save_plot  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import table  # noqa: E402

BARS = [("single", "one net\n8 hidden", 95.9), ("single-3x", "one net\n24 hidden", None),
        ("meta-pi", "meta-pi\nfrozen", 98.4), ("meta-pi-tuned", "meta-pi\nfine-tuned", None)]


def accuracy_panel(ax, runs, ds):
    for i, (key, label, paper) in enumerate(BARS):
        acc = table.accuracy(runs[key])
        ax.bar(i, acc.mean(), color="C0" if key.startswith("single") else "C1", alpha=0.8)
        ax.plot([i] * len(acc), acc, "k.", ms=4)
        if paper:
            ax.plot(i, paper, "D", mfc="none", mec="k", ms=8, label="paper (ATR /b,d,g/)" if key == "single" else None)
    ax.set_xticks(range(len(BARS)), [b[1] for b in BARS], fontsize=8)
    lo = min(table.accuracy(runs[k]).min() for k, *_ in BARS)
    ax.set_ylim(max(0, lo - 10), 100)
    ax.set_ylabel("test accuracy %")
    ax.set_title(f"{ds}: one network against meta-pi", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")


def gate_panel(ax, runs, ds):
    G = table.gate_by_type(runs["meta-pi"])
    ax.imshow(G, vmin=0, vmax=1, cmap="viridis")
    for i in range(G.shape[0]):
        for j in range(G.shape[1]):
            ax.text(j, i, f"{G[i, j]:.2f}", ha="center", va="center", color="w" if G[i, j] < 0.6 else "k")
    names = [table.TYPE_NAME[t] for t in table.TYPES]
    ax.set_xticks(range(3), [f"{n}'s\nexpert" for n in names], fontsize=8)
    ax.set_yticks(range(3), names)
    ax.set_ylabel("test speaker's type")
    ax.set_title(f"{ds}: meta-pi gate weight (frozen experts)", fontsize=10)


def removed_panel(ax, runs, ds):
    x = np.arange(len(table.TYPES))
    full = [table.accuracy(runs["meta-pi"], t).mean() for t in table.TYPES]
    blend = [table.accuracy(runs[f"meta-pi-without-{t}"], t).mean() for t in table.TYPES]
    alone = [max(table.accuracy(runs[f"expert-{u}"], t).mean() for u in table.TYPES if u != t) for t in table.TYPES]
    ax.bar(x - 0.27, full, 0.27, label="full meta-pi (own expert there)")
    ax.bar(x, blend, 0.27, label="own expert removed: blend of the others")
    ax.bar(x + 0.27, alone, 0.27, label="best other expert alone")
    ax.set_xticks(x, [table.TYPE_NAME[t] for t in table.TYPES])
    ax.set_ylim(max(0, min(blend + alone) - 15), 115)  # room for the legend above the bars
    ax.set_yticks([v for v in ax.get_yticks() if v <= 100])
    ax.set_ylabel("test accuracy % on that type's speakers")
    ax.set_title(f"{ds}: a type without its expert", fontsize=10)
    ax.legend(fontsize=7, loc="upper center", ncol=2)


def main():
    folder = plot_folder(__doc__)
    sets = table.sets_found(folder)
    if not sets:
        table.fail(f"no evaluations (<set>/NAME-seedS-test.h5) in '{folder}'")
    fig, axes = plt.subplots(len(sets), 3, figsize=(16, 4.8 * len(sets)), squeeze=False)
    for row, ds in zip(axes, sets):
        runs = table.read_set(folder, ds)
        name = {"pb": "Peterson & Barney", "hillenbrand": "Hillenbrand"}[ds]
        accuracy_panel(row[0], runs, name)
        gate_panel(row[1], runs, name)
        removed_panel(row[2], runs, name)
    n = len(table.read_set(folder, sets[0])["single"])
    fig.suptitle("Hampshire & Waibel (1992) meta-pi, rerun on vowel formants with one expert per speaker type "
                 f"({n} run{'s' if n > 1 else ''})")
    save_plot(fig, folder, dpi=90)


if __name__ == "__main__":
    main()
