#!/usr/bin/env python3
"""Shape checks of the rerun against Jacobs et al. (1991) Table 1 (docs/methods.md#adaptive-mixture-of-local-experts: the mixture reaches
the error criterion in about half the epochs of backprop, with smaller spread and the same accuracy; few
experts stay alive). Every mixture of the folder (4 and 8 experts; softmax experts too if run) against
each backprop net (6 and 12 hidden units), at the folder's one learning rate:
  1. speed: the mixture's median epochs to criterion is at most 0.75 times the faster backprop net's. The
     paper's means give 0.44-0.51 ("about half"); 0.75 is halfway from there to no speed-up at all. The
     median is over all runs, a run that never reached the criterion counting as slower than every run that
     did, so a mixture cannot pass by leaving its failed runs out. Our epochs are not the paper's (its step
     sizes are unknown): only the ratio compares.
  2. spread: the SD of the mixture's epochs to criterion (runs that reached it, the paper's statistic) is
     smaller than each backprop net's (paper: 23 and 12 against 83 and 124). INFO: the spread relative to
     the mean (coefficient of variation), which the paper's numbers also order this way (2% and 1% against
     4% and 5%).
  3. accuracy: the models' mean test accuracies lie within 3 points of each other (paper: 90% for all four
     at its 1-point rounding). 3 points is about one binomial standard error of one run on our 200 test
     tokens (25 speakers) at 85%: a gap below it is not a difference the test set can show.
  4. few experts alive: the mixture's mean number of experts with mixing proportion (mean gate probability
     on the training set) above 0.05 is at most 3 (paper: in each run all but 2-3 experts ended near 0).
INFO: runs that reached the criterion, training accuracies, the learning rate.
Usage: check.py RESULTS_DIR   (the folder run.sh wrote)"""
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
import table  # noqa: E402
from shape_check import Checks, results_folder  # noqa: E402

SPEED_RATIO = 0.75
ACCURACY_POINTS = 3.0
MAX_ALIVE = 3.0


def median_epochs(rs):
    """Median epochs to criterion with runs that never reached it counted as infinitely slow."""
    return float(np.median([r["epoch"] if r["epoch"] > 0 else np.inf for r in rs]))


def main():
    folder = results_folder(__doc__)
    runs = table.read_runs(folder)
    mixtures = [k for k in runs if k.startswith("mixture")]
    nets = [k for k in runs if k.startswith("mlp")]
    if not mixtures or not nets:
        print(f"check.py: error: '{folder}' needs mixture and mlp runs (found: {', '.join(runs)})", file=sys.stderr)
        sys.exit(2)
    checks = Checks()
    checks.info(f"learning rate {runs[mixtures[0]][0]['lr']:g}; runs that reached the criterion: " +
                ", ".join(f"{table.label(k)} {table.epochs_stats(rs)[2]}/{len(rs)}" for k, rs in runs.items()))

    fastest_net = min(median_epochs(runs[k]) for k in nets)
    for k in mixtures:
        med = median_epochs(runs[k])
        # A median of inf (most runs never reached the criterion) is no evidence of speed, whatever the nets did.
        checks.check(math.isfinite(med) and med <= SPEED_RATIO * fastest_net,
                     f"{table.label(k)}: median epochs to criterion {med:.0f} = {med / fastest_net:.2f} x backprop's "
                     f"fastest median ({', '.join(f'{table.label(n)} {median_epochs(runs[n]):.0f}' for n in nets)}); "
                     f"<= {SPEED_RATIO} (paper 0.44-0.51)")

    stats = {k: table.epochs_stats(rs) for k, rs in runs.items()}
    for k in mixtures:
        sd = stats[k][1]
        checks.check(all(sd < stats[n][1] for n in nets),
                     f"{table.label(k)}: SD of epochs to criterion {sd:.1f} < backprop's "
                     f"({', '.join(f'{table.label(n)} {stats[n][1]:.1f}' for n in nets)}; "
                     f"paper {table.PAPER[table.paper_key(k)][4]} against 83 and 124)")
    checks.info("relative spread, SD / mean of epochs to criterion: " +
                ", ".join(f"{table.label(k)} {100 * s[1] / s[0]:.0f}%" for k, s in stats.items()) +
                " (paper: 2%, 1%, 4%, 5%)")

    test = {k: 100 * np.mean([r["test_acc"] for r in rs]) for k, rs in runs.items()}
    gap = max(test.values()) - min(test.values())
    checks.check(gap <= ACCURACY_POINTS,
                 f"mean test accuracies within {ACCURACY_POINTS:g} points: " +
                 ", ".join(f"{table.label(k)} {v:.1f}%" for k, v in test.items()) + f" (gap {gap:.1f}; paper 90% all)")
    train = {k: 100 * np.mean([r["train_acc"] for r in rs]) for k, rs in runs.items()}
    checks.info("mean training accuracies: " + ", ".join(f"{table.label(k)} {v:.1f}%" for k, v in train.items()) +
                " (paper 88% all)")

    for k in mixtures:
        alive = np.mean([r["alive"] for r in runs[k]])
        checks.check(alive <= MAX_ALIVE,
                     f"{table.label(k)}: {alive:.1f} of {runs[k][0]['experts']} experts alive on average "
                     f"(mixing proportion > {table.ALIVE}); <= {MAX_ALIVE:g} (paper: all but 2-3 near 0)")
    checks.finish()


if __name__ == "__main__":
    main()
