#!/usr/bin/env python3
"""DIR/plot.png of the router comparison: per router, the test error (top) and the CV of the expert load
per training batch (bottom, mean over the last 10% of the steps; hollow markers: the test split routed as
one batch in evaluation mode), seed means as markers and each seed as a dot. The published shapes it shows
(docs/methods.md#other-routers): expert choice, soft MoE and balanced assignment balanced by construction (CV 0),
loss-free balancing below plain top-k without a loss, hash routing's error beside Switch's. The papers give
no numbers at this scale, so there are none to draw beside ours.
Usage: plot.py RESULTS_DIR"""
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from plot_common import plot_folder, save_plot  # noqa: E402
import sparse_table as st  # noqa: E402

ORDER = ["topk", "noisy-topk", "switch", "gshard", "hash", "expert-choice", "soft", "balanced", "loss-free"]


def main():
    folder = plot_folder(__doc__)
    groups = {g[0]["router"]: g for g in st.read_groups(folder).values()}
    if not groups:
        sys.exit(f"plot.py: error: no run files in '{folder}'")
    names = [r for r in ORDER if r in groups] + sorted(r for r in groups if r not in ORDER)
    x = np.arange(len(names))
    fig, (a, b) = plt.subplots(2, 1, figsize=(10, 6.4), sharex=True)
    for ax, key, scale, colour, label in ((a, "test_error", 100, "C2", "test error %"),
                                          (b, "cv_load", 1, "C1", "CV(load)")):
        ax.plot(x, [scale * st.seed_mean(groups[n], key) for n in names], "o", ms=10, alpha=0.7, color=colour,
                label=f"{label}{' per training batch' if key == 'cv_load' else ''} (seed mean)")
        for i, n in enumerate(names):
            ax.plot([i] * len(groups[n]), [scale * r[key] for r in groups[n]], ".", color=colour)
        ax.set_ylabel(label)
        ax.grid(axis="y", alpha=0.3)
    b.plot(x, [st.seed_mean(groups[n], "test_cv_load") for n in names], "o", ms=8, mfc="none", color="C1",
           label="CV(load), test split as one batch")
    if "switch" in groups:
        switch = 100 * st.seed_mean(groups["switch"], "test_error")
        a.axhspan(switch, switch + 1, color="k", alpha=0.08, label="Switch to Switch + 1 point (check.py: hash within it)")
    b.set_ylim(bottom=-0.05)
    a.legend(fontsize=8, loc="upper left")
    b.legend(fontsize=8, loc="upper right")
    b.set_xticks(x, names)
    r = next(iter(groups.values()))[0]
    a.set_title(f"routers at equal active parameters: {r['experts']} experts, {r['epochs']} epochs, "
                f"{len(next(iter(groups.values())))} seed(s)", fontsize=10)
    save_plot(fig, folder)


if __name__ == "__main__":
    main()
