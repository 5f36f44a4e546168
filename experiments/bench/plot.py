#!/usr/bin/env python3
"""DIR/plot.png of the CPU sparse-layer benchmark (sparse.sh): forward + backward rate as a fraction of the
dense rate measured in the same run, against the number of experts; moe-bench (uniform and Zipf-1 routing,
DIR/cpu.h5) and, when the run has it, the PyTorch loop (DIR/torch-cpu.csv, against its own dense product),
with the speed targets (0.80 at 8 experts, 0.70 at 64) and the PyTorch-loop peers of docs/performance.md (54 and 21 GFLOP/s
against 114-118 dense: 0.46 and 0.18). Right: time per step against experts, with the 1.3x-of-8-experts
ceiling for 256.
Usage: plot.py RESULTS_DIR"""
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from plot_common import plot_folder, save_plot  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check import MAX_GROWTH, TARGETS, read_bench  # noqa: E402

PEERS = {8: 54 / 116, 64: 21 / 116}  # peer measurement (docs/performance.md): the PyTorch loop against a same-process dense 114-118 GFLOP/s


def main():
    folder = plot_folder(__doc__)
    path = os.path.join(folder, "cpu.h5")
    if not os.path.exists(path):
        sys.exit(f"plot.py: error: no moe-bench file '{path}'")
    rows = read_bench(path)
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    for s, style in ((0.0, "o-"), (1.0, "s--")):
        pts = sorted((e, r) for (e, imb), r in rows.items() if imb == s)
        if pts:
            label = "moekit, uniform" if s == 0 else f"moekit, Zipf {s:g}"
            a.plot([e for e, _ in pts], [r["fraction"] for _, r in pts], style, color="C0", label=label)
            b.plot([e for e, _ in pts], [1e3 * r["training_seconds"] for _, r in pts], style, color="C0", label=label)
    torch_csv = os.path.join(folder, "torch-cpu.csv")
    if os.path.exists(torch_csv):
        with open(torch_csv) as f:
            t = sorted((int(r["experts"]), float(r["training_fraction_of_dense"]), float(r["training_ms"]))
                       for r in csv.DictReader(f))
        a.plot([e for e, _, _ in t], [x for _, x, _ in t], "^-", color="C1", label="PyTorch loop (this run)")
        b.plot([e for e, _, _ in t], [ms for _, _, ms in t], "^-", color="C1", label="PyTorch loop (this run)")
    a.plot(list(PEERS), list(PEERS.values()), "^", color="C1", mfc="none", ms=9, label="PyTorch loop (peer run)")
    a.plot(list(TARGETS), list(TARGETS.values()), "r_", ms=22, mew=2, label="target (at least)")
    a.set_ylim(0, max([1.05] + [1.05 * y for line in a.get_lines() for y in line.get_ydata()]))
    a.set_ylabel("fraction of the same-run dense rate")
    a.set_title("forward + backward, CPU float")
    uniform8 = rows.get((8, 0.0))
    if uniform8:
        b.plot([256], [MAX_GROWTH * 1e3 * uniform8["training_seconds"]], "rv", ms=9,
               label=f"target: at most {MAX_GROWTH}x the 8-expert time")
    b.set_ylabel("ms per step")
    b.set_ylim(0, 1.1 * max(y for line in b.get_lines() for y in line.get_ydata()))
    first = next(iter(rows.values()))
    b.set_title(f"tokens {first['tokens']:.0f}, d_model {first['d_model']:.0f}, d_ff {first['d_ff']:.0f}, k {first['k']:.0f}")
    for ax in (a, b):
        ax.set_xscale("log", base=2)
        ax.set_xticks([8, 16, 32, 64, 128, 256], ["8", "16", "32", "64", "128", "256"])
        ax.set_xlim(6, 320)
        ax.set_xlabel("experts")
        ax.legend(fontsize=8)
    save_plot(fig, folder)


if __name__ == "__main__":
    main()
