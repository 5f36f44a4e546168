#!/usr/bin/env python3
"""MoS against the softmax on real text (Yang et al. 2017, docs/methods.md#mixture-of-softmaxes) in one figure, DIR/plot.png.
Left: validation perplexity per epoch of every head and seed (a dot at the epoch whose weights were kept).
Right: each head's valid and test perplexity relative to the softmax's (seed means, %), beside the
paper's MoS against its AWD-LSTM softmax on PTB and WikiText-2: the perplexities themselves are not
comparable (a 3-word feed-forward model on 100k tokens against 3-layer LSTMs), the sign and size of the
gain at equal d are.
Usage: plot.py RESULTS_DIR"""
import glob
import os
import sys

import h5py
import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from plot_common import plot_folder, save_plot  # noqa: E402
import numpy as np  # noqa: E402

HEADS = {"softmax": "softmax", "moc": "MoC (K=5)", "mos": "MoS (K=5)", "softmax-moe": "softmax after sparse MoE"}
PAPER = {"PTB": ((60.0, 57.3), (56.54, 54.44)), "WT2": ((68.6, 65.8), (63.88, 61.45))}  # softmax, MoS (valid, test)


def main():
    folder = plot_folder(__doc__)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    means, d = {}, None
    for i, (head, label) in enumerate(HEADS.items()):
        paths = sorted(glob.glob(os.path.join(folder, head + "-s[0-9]*.h5")))
        valid, test = [], []
        for j, path in enumerate(paths):
            with h5py.File(path, "r") as f:
                ppl = np.exp(f["history/valid_loss"][()])
                best = int(f["history"].attrs["best_epoch"])
                valid.append(float(f["eval/valid"].attrs["perplexity"]))
                test.append(float(f["eval/test"].attrs["perplexity"]))
                d = int(f["model"].attrs["projection"])
            epochs = np.arange(1, len(ppl) + 1)
            left.plot(epochs, ppl, color=f"C{i}", lw=1, label=label if j == 0 else None)
            left.plot(best, ppl[best - 1], "o", color=f"C{i}", ms=4)  # best_epoch counts from 1
        if paths:
            means[head] = (np.mean(valid), np.mean(test), len(paths))
    if "softmax" not in means:
        sys.exit(f"plot.py: error: no softmax-sSEED.h5 runs in '{folder}'")
    left.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    left.set_xlabel("epoch")
    left.set_ylabel("validation perplexity")
    left.set_title(f"State of the Union, d = {d}: validation perplexity per epoch (dot: kept)", fontsize=10)
    left.legend(fontsize=8)

    bars = []  # (label, valid %, test %, colour)
    sv, st, _ = means["softmax"]
    for i, head in enumerate(HEADS):
        if head != "softmax" and head in means:
            v, t, n = means[head]
            bars.append((f"ours: {HEADS[head]}\n({n} seed{'s' if n > 1 else ''})", 100 * (v / sv - 1), 100 * (t / st - 1), f"C{i}"))
    for corpus, ((pv, pt), (mv, mt)) in PAPER.items():
        bars.append((f"paper: MoS K=15\n{corpus}", 100 * (mv / pv - 1), 100 * (mt / pt - 1), "grey"))
    x = np.arange(len(bars))
    right.bar(x - 0.2, [b[1] for b in bars], 0.4, color=[b[3] for b in bars], alpha=0.6, label="valid")
    right.bar(x + 0.2, [b[2] for b in bars], 0.4, color=[b[3] for b in bars], label="test")
    for xi, b in zip(x, bars):
        right.text(xi - 0.2, b[1], f"{b[1]:+.1f}", ha="center", va="top" if b[1] < 0 else "bottom", fontsize=7)
        right.text(xi + 0.2, b[2], f"{b[2]:+.1f}", ha="center", va="top" if b[2] < 0 else "bottom", fontsize=7)
    right.axhline(0, color="k", lw=0.8)
    right.set_xticks(x, [b[0] for b in bars], fontsize=7)
    right.set_ylabel("perplexity relative to the softmax (%)")
    right.set_title(f"below 0: better than the softmax (ours: softmax valid/test {sv:.1f}/{st:.1f})\n"
                    "left bar valid, right bar test", fontsize=9)
    fig.suptitle("Mixture of softmaxes against the softmax at equal d (paper: Yang et al. 2017)")
    save_plot(fig, folder)


if __name__ == "__main__":
    main()
