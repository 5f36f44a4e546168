#!/usr/bin/env python3
"""DIR/plot.png of the upcycling study: test cross-entropy (left) and test error (right) of the dense
start, its dense continuation at about equal extra compute, the upcycled MoE and the MoE from scratch;
seed means as markers, each seed as a dot, a seed's four runs joined by a thin line (the continuations
start from that seed's dense run, so the seed-wise comparison is the fair one). Komatsuzaki et al. give no
numbers at this scale; the shape to see is upcycled below dense-continued and below scratch (check.py).
Usage: plot.py RESULTS_DIR"""
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from plot_common import plot_folder, save_plot  # noqa: E402
import sparse_table as st  # noqa: E402

ORDER = ["dense", "dense-continued", "upcycled", "scratch"]
CONTINUED = ("dense-continued", "upcycled")  # trained on from the dense start: their epochs are extra
LABEL = {"dense": "dense start", "dense-continued": "dense,\ncontinued", "upcycled": "upcycled\n(8 experts, top-2)",
         "scratch": "MoE from\nscratch"}


def main():
    folder = plot_folder(__doc__)
    groups = st.read_groups(folder)
    names = [n for n in ORDER if n in groups]
    if not names:
        sys.exit(f"plot.py: error: no upcycling runs in '{folder}'")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, key, scale, label in ((axes[0], "test_loss", 1, "test cross-entropy"), (axes[1], "test_error", 100, "test error %")):
        by_seed = {}
        for i, n in enumerate(names):
            for r in groups[n]:
                by_seed.setdefault(r["seed"], []).append((i, scale * r[key]))
        for pts in by_seed.values():
            ax.plot([p[0] for p in pts], [p[1] for p in pts], "-", color="0.7", lw=0.8)
            ax.plot([p[0] for p in pts], [p[1] for p in pts], ".", color="C0")
        ax.plot(range(len(names)), [scale * st.seed_mean(groups[n], key) for n in names], "o", ms=11, alpha=0.7,
                color="C0", label="seed mean (dots: seeds)")
        ax.set_xticks(range(len(names)), [f"{LABEL[n]}\n{'+' if n in CONTINUED else ''}{groups[n][0]['epochs']} epochs" for n in names], fontsize=8)
        ax.set_ylabel(label)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"sparse upcycling against continued dense training, {len(groups[names[0]])} seed(s)", fontsize=10)
    save_plot(fig, folder)


if __name__ == "__main__":
    main()
