#!/usr/bin/env python3
"""The deep MoE's "where" and "what" (Eigen, Ranzato & Sutskever 2013, docs/methods.md#deep-mixture-of-experts) in one figure,
DIR/plot.png: for the balanced run (deep-4x4), the share of the test digits at each of the 3 x 3 positions
whose layer-1 argmax expert is expert i (one small map of the canvas per expert: the paper's "where"), the
share of each label whose layer-2 argmax expert it is (the "what"), and the specialisation scores of every
layer of every deep run (position against label, table.py's I(A;F)/H(A)) with the test errors.
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


def shares(assign, factor, values, k):
    """k x len(values): share of the digits with each factor value whose argmax expert is i."""
    out = np.zeros((k, len(values)))
    for j, v in enumerate(values):
        sel = factor == v
        if sel.any():
            out[:, j] = np.bincount(assign[sel], minlength=k) / sel.sum()
    return out


def main():
    folder = plot_folder(__doc__)
    pos, label = table.read_test_digits(os.path.join(folder, "data", "test.h5"))
    runs = {n: table.read_run(folder, n, len(label)) for n in ("deep-4x4", "deep-4x4-unbalanced", "single-1x1")}
    deep = runs["deep-4x4"]
    if deep is None:
        sys.exit(f"plot.py: error: no evaluated deep-4x4 run in '{folder}'")
    g1, g2 = deep["gates"][0], deep["gates"][1]
    k1, k2 = g1.shape[0], g2.shape[0]

    fig = plt.figure(figsize=(13, 7), layout="constrained")
    grid = fig.add_gridspec(2, k1 + 3, height_ratios=[1, 1.1])
    where = shares(g1.argmax(0), pos, range(9), k1)
    for i in range(k1):
        ax = fig.add_subplot(grid[0, i])
        ax.imshow(where[i].reshape(3, 3), vmin=0, vmax=1, cmap="viridis")
        ax.set_xticks(range(3), ["left", "centre", "right"], fontsize=7)
        ax.set_yticks(range(3), ["top", "middle", "bottom"] if i == 0 else [], fontsize=7)
        ax.set_title(f"layer 1, expert {i}", fontsize=9)
        for (r, c), v in np.ndenumerate(where[i].reshape(3, 3)):
            ax.text(c, r, f"{100 * v:.0f}", ha="center", va="center", fontsize=7, color="w" if v < 0.5 else "k")

    ax = fig.add_subplot(grid[0, k1 + 1:])
    names = [n for n in ("deep-4x4", "deep-4x4-unbalanced") if runs[n] is not None]
    bars = []
    for n in names:
        for layer, gate in enumerate(runs[n]["gates"], start=1):
            s = table.layer_scores(gate, pos, label)
            bars.append((f"{'bal.' if n == 'deep-4x4' else 'unbal.'} L{layer}", s["score_position"], s["score_label"]))
    x = np.arange(len(bars))
    ax.bar(x - 0.2, [b[1] for b in bars], 0.4, label="position")
    ax.bar(x + 0.2, [b[2] for b in bars], 0.4, label="label")
    ax.set_xticks(x, [b[0] for b in bars], fontsize=8)
    ax.set_ylabel("I(A;factor) / H(A)")
    ax.legend(fontsize=8)
    errs = ", ".join(f"{n} {r['test_error']:.1f}%" for n, r in runs.items() if r)
    ax.set_title(f"test error: {errs}\n(paper 1.3-1.8%, 60000 training digits)", fontsize=8)

    ax = fig.add_subplot(grid[1, :])
    what = shares(g2.argmax(0), label, range(10), k2)
    im = ax.imshow(what, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    fig.colorbar(im, ax=ax, label="share of the digits routed to the expert (cells in %)")
    ax.set_xticks(range(10), [f"digit {c}" for c in range(10)])
    ax.set_yticks(range(k2), [f"layer 2, expert {i}" for i in range(k2)])
    for (r, c), v in np.ndenumerate(what):
        ax.text(c, r, f"{100 * v:.0f}", ha="center", va="center", fontsize=8, color="w" if v < 0.5 else "k")
    ax.set_title('layer 2: share of each digit class routed to each expert ("what"; paper: by class); top row: '
                 'layer 1, share of the digits at each position ("where")', fontsize=10)
    fig.suptitle('Deep MoE on jittered MNIST, balanced 4x4 run: layer 1 by position ("where"), layer 2 by class '
                 f'("what"); {deep["epochs"]} epochs')
    save_plot(fig, folder, tight=False)


if __name__ == "__main__":
    main()
