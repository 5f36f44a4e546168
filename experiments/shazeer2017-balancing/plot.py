#!/usr/bin/env python3
"""DIR/plot.png of the Table 6 rerun: per (w_importance, w_load) setting, left the balance per training batch
(CV of importance and of load, ours: seed means as bars and each seed as a dot; the paper's as black
markers; log scale, so the collapse without losses and the floor with them are both visible), right the
test error (ours) beside the paper's test perplexity (its own axis: the two are not comparable in value,
only in shape: the no-loss setting should stand out as worse).
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

# Table 6 (docs/methods.md#noisy-top-k-gating-and-balancing-losses): (w_importance, w_load) -> test perplexity, CV(importance), CV(load)
PAPER = {(0, 0): (39.8, 3.04, 3.01), (0.2, 0): (35.6, 0.06, 0.17), (0, 0.2): (35.7, 0.22, 0.04),
         (0.1, 0.1): (35.6, 0.06, 0.05), (0.01, 0.01): (35.7, 0.48, 0.11), (1, 1): (35.7, 0.03, 0.02)}


def main():
    folder = plot_folder(__doc__)
    settings = {(r[0]["w_importance"], r[0]["w_load"]): r for r in st.read_groups(folder).values()}
    if not settings:
        sys.exit(f"plot.py: error: no run files in '{folder}'")
    keys = [k for k in PAPER if k in settings] + sorted(k for k in settings if k not in PAPER)
    x = np.arange(len(keys))
    labels = [f"{a:g} / {b:g}" for a, b in keys]
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.4))
    for i, (key, colour, offset) in enumerate((("cv_importance", "C0", -0.2), ("cv_load", "C1", 0.2))):
        means = [st.seed_mean(settings[k], key) for k in keys]
        a.bar(x + offset, means, width=0.38, color=colour, alpha=0.6, label=f"ours: {key.replace('cv_', 'CV(')})")
        for j, k in enumerate(keys):
            a.plot([j + offset] * len(settings[k]), [r[key] for r in settings[k]], ".", color=colour)
        a.plot([j + offset for j, k in enumerate(keys) if k in PAPER], [PAPER[k][1 + i] for k in keys if k in PAPER],
               "kx" if i == 0 else "k+", ms=9, mew=2, label=f"paper: {key.replace('cv_', 'CV(')})")
    # 2 x 128 slots of a batch over 16 experts: 16 per expert, so counting alone gives CV about 1/sqrt(16)
    a.axhline(0.25, color="k", ls=":", lw=1, label="counting-noise floor per batch (0.25)")
    a.set_yscale("log")
    a.set_ylabel("CV per training batch (seed means; dots: seeds)")
    a.set_title("balance: any loss restores it")
    errors = [100 * st.seed_mean(settings[k], "test_error") for k in keys]
    b.plot(x, errors, "o", color="C2", ms=10, alpha=0.7, label="ours: test error (seed mean)")
    for j, k in enumerate(keys):
        b.plot([j] * len(settings[k]), [100 * r["test_error"] for r in settings[k]], ".", color="C2")
    b.set_ylabel("test error % (Fashion-MNIST)")
    b.set_title("quality: the paper's no-loss model is worse")
    p = b.twinx()
    p.plot([j for j, k in enumerate(keys) if k in PAPER], [PAPER[k][0] for k in keys if k in PAPER], "ks--",
           label="paper: test perplexity")
    p.set_ylabel("paper: test perplexity (language model)")
    lines = b.get_legend_handles_labels()
    more = p.get_legend_handles_labels()
    b.legend(lines[0] + more[0], lines[1] + more[1], fontsize=8, loc="upper center")
    a.legend(fontsize=8)
    for ax in (a, b):
        ax.set_xticks(x, labels)
        ax.set_xlabel("w_importance / w_load")
    r = next(iter(settings.values()))[0]
    fig.suptitle(f"Shazeer et al. (2017) Table 6 at small scale: noisy top-{r['top_k']} of {r['experts']} experts, "
                 f"{r['epochs']} epochs, {len(next(iter(settings.values())))} seed(s)", fontsize=10)
    save_plot(fig, folder)


if __name__ == "__main__":
    main()
