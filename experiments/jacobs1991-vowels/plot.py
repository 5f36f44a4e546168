#!/usr/bin/env python3
"""Jacobs et al. (1991) Table 1 in one figure, DIR/plot.png. Left: epochs to the error criterion of every
run (dots; a run that never reached it at the epoch cap, as a cross) and their mean +- SD, beside the
paper's mean +- SD (log scale: the paper's step sizes are unknown, so the ratio between mixtures and
backprop is what compares). Middle: every run's learning curve against the criterion. Right: the gate's
partition of formant space by the 4-expert mixture (first seed that reached the criterion).
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
import table  # noqa: E402

COLOURS = {"mixture-4": "C0", "mixture-8": "C1", "mixture-4-softmax": "C4", "mixture-8-softmax": "C5",
           "mlp-6": "C2", "mlp-12": "C3"}


def epochs_panel(ax, runs):
    rng = np.random.default_rng(0)  # horizontal jitter of the dots only
    for i, (key, rs) in enumerate(runs.items()):
        c = COLOURS[key]
        reached = np.array([r["epoch"] for r in rs if r["epoch"] > 0])
        missed = [r["epochs_run"] for r in rs if r["epoch"] <= 0]
        ax.scatter(i - 0.15 + 0.08 * rng.uniform(-1, 1, len(reached)), reached, s=10, color=c, alpha=0.6)
        if missed:
            ax.scatter([i - 0.15] * len(missed), missed, marker="x", color=c, label="never reached" if i == 0 else None)
        mean, sd, _ = table.epochs_stats(rs)
        ax.errorbar(i - 0.15, mean, yerr=sd if sd == sd else None, fmt="o", color="k", ms=5, capsize=3,
                    label="ours: mean +- SD" if i == 0 else None)
        _, _, _, pep, psd = table.PAPER[table.paper_key(key)]
        ax.errorbar(i + 0.15, pep, yerr=psd, fmt="s", color="grey", ms=5, capsize=3,
                    label="paper: mean +- SD" if i == 0 else None)
    ax.set_xticks(range(len(runs)), [table.label(k).replace(" (", "\n(") for k in runs], fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("epochs to criterion 0.08")
    ax.set_title("Epochs to criterion: ours beside the paper's")
    ax.legend(fontsize=8)


def curves_panel(ax, runs):
    for key, rs in runs.items():
        for i, r in enumerate(rs):
            ax.plot(np.arange(1, len(r["curve"]) + 1), r["curve"], color=COLOURS[key], alpha=0.4, lw=1,
                    label=table.label(key) if i == 0 else None)
    ax.axhline(0.08, color="k", ls="--", lw=1, label="criterion 0.08")
    ax.set_xscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training MSE per output")
    ax.set_title("Learning curves (every run)")
    ax.legend(fontsize=8)


def partition_panel(ax, runs):
    key = next((k for k in runs if k.startswith("mixture-4")), None)
    run = next((r for r in runs.get(key, []) if r["epoch"] > 0), None)
    if run is None:
        ax.set_axis_off()
        ax.set_title("no 4-expert run reached the criterion")
        return
    with h5py.File(run["path"], "r") as f:
        x = f["eval/train/inputs"][()]
        mean, scale = f["model/standardizer/mean"][()], f["model/standardizer/scale"][()]
        raw = x * scale[:, None] + mean[:, None]
        assign = f["eval/train/assignment"][()]
        labels = f["eval/train/labels"][()]
        names = [s.decode() if isinstance(s, bytes) else s for s in f["model/target_names"][()]]
    markers = ["o", "s", "^", "v"]
    for c, name in enumerate(names):
        m = labels == c
        ax.scatter(raw[1, m], raw[0, m], c=[f"C{k}" for k in assign[m]], marker=markers[c % 4], s=14,
                   label=f"/{name}/")
    ax.set_xlabel("F2 (Hz)")
    ax.set_ylabel("F1 (Hz)")
    ax.invert_xaxis()
    ax.invert_yaxis()
    ax.set_title(f"{table.label(key)}, seed {run['seed']}: colour = gate's expert")
    ax.legend(title="vowel (marker)", fontsize=8)


def main():
    folder = plot_folder(__doc__)
    runs = table.read_runs(folder)
    fig, axes = plt.subplots(1, 3, figsize=(17, 5))
    epochs_panel(axes[0], runs)
    curves_panel(axes[1], runs)
    partition_panel(axes[2], runs)
    lr = next(iter(runs.values()))[0]["lr"]
    fig.suptitle(f"Jacobs et al. (1991) on Peterson & Barney /i I a ^/: full-batch momentum, learning rate {lr:g}")
    save_plot(fig, folder, dpi=100)


if __name__ == "__main__":
    main()
