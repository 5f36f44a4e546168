#!/usr/bin/env python3
"""DIR/plot.png of the capacity sweep: fraction of tokens dropped in training (no routed expert processed
them, mean over all training batches) against the capacity factor, with the Switch auxiliary loss and
without it; left top-2 (ST-MoE's routing) beside ST-MoE Table 5's numbers, right Switch top-1 (no published
counterpart). Seed means as lines, each seed as a dot; dropless runs sit at the right edge (0 by
construction, shown so that a nonzero value would be seen).
Usage: plot.py RESULTS_DIR"""
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from plot_common import plot_folder, save_plot  # noqa: E402
import sparse_table as st  # noqa: E402

# ST-MoE Table 5 (docs/methods.md#switch-gshard-capacity-and-the-z-loss): capacity factor -> % dropped with / without the auxiliary loss
PAPER = {0.75: (10.6, 15.6), 1.25: (0.3, 2.9), 2.0: (0.0, 0.4)}
DROPLESS_X = 2.5  # where the dropless runs are drawn


def main():
    folder = plot_folder(__doc__)
    groups = st.read_groups(folder)
    if not groups:
        sys.exit(f"plot.py: error: no run files in '{folder}'")
    runs = {}  # (router, capacity, aux) -> the seeds' runs
    for g in groups.values():
        r = g[0]
        router = "switch" if r["router"] == "switch" else f"top-{r['top_k']}"
        runs[(router, r["capacity"], r["switch_alpha"] > 0)] = g
    panels = [p for p in ("top-2", "switch") if any(k[0] == p for k in runs)]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.8 * len(panels), 4.4), squeeze=False)
    for ax, router in zip(axes[0], panels):
        for aux, colour in ((True, "C0"), (False, "C3")):
            keys = sorted((k for k in runs if k[0] == router and k[2] == aux), key=lambda k: (k[1] <= 0, k[1]))
            xs = [k[1] if k[1] > 0 else DROPLESS_X for k in keys]
            ys = [100 * st.seed_mean(runs[k], "dropped_tokens_all") for k in keys]
            capped = [i for i, k in enumerate(keys) if k[1] > 0]  # the line joins the capacity factors only
            ax.plot([xs[i] for i in capped], [ys[i] for i in capped], "-", color=colour)
            ax.plot(xs, ys, "o", color=colour, label=f"ours, {'aux loss 0.01' if aux else 'no aux loss'}")
            for x, k in zip(xs, keys):
                ax.plot([x] * len(runs[k]), [100 * r["dropped_tokens_all"] for r in runs[k]], ".", color=colour)
            if router == "top-2":
                ax.plot(list(PAPER), [v[0 if aux else 1] for v in PAPER.values()], "s--", color=colour, mfc="none",
                        label=f"ST-MoE Table 5, {'aux loss' if aux else 'no aux loss'}")
        ax.set_xticks([0.75, 1.0, 1.25, 2.0, DROPLESS_X], ["0.75", "1.0", "1.25", "2.0", "dropless"])
        ax.set_xlabel("capacity factor (training)")
        ax.set_ylabel("tokens dropped in training, %")
        ax.set_title("softmax top-2 (ST-MoE's routing)" if router == "top-2" else "Switch top-1 (no published counterpart)")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
    r = next(iter(groups.values()))[0]
    fig.suptitle(f"capacity factor sweep: {r['experts']} experts, {r['epochs']} epochs, "
                 f"{len(next(iter(groups.values())))} seed(s)", fontsize=10)
    save_plot(fig, folder)


if __name__ == "__main__":
    main()
