#!/usr/bin/env python3
"""Shape checks of the Table 6 rerun against Shazeer et al. (2017) (docs/methods.md#noisy-top-k-gating-and-balancing-losses). The shape:
  1. without balancing losses the router collapses: CV(importance) and CV(load) per batch above 1 and the
     busiest expert takes more than twice its share (paper: 3.04, 3.01, 17.8)
  2. any of the losses restores balance: CV(importance) and CV(load) per batch below 0.5 and max/mean load
     below 2 for every loss setting (paper: 0.02-0.48, max/mean 1.07-1.47)
  3. quality drops without the losses: the no-loss test error is above every loss setting's (paper: test
     perplexity 39.8 against 35.6-35.7)
Seed means over the last 10% of the training steps (per-batch balance, as the paper reports it). Prints one
line per check, PASS or FAIL with the values; exit status 0 when all pass, 1 otherwise.
Usage: check.py RESULTS_DIR   (the folder run.sh wrote)"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import sparse_table as st  # noqa: E402
from shape_check import Checks, results_folder  # noqa: E402


mean = st.seed_mean


def main():
    folder = results_folder(__doc__)
    settings = {}
    for runs in st.read_groups(folder).values():
        settings[(runs[0]["w_importance"], runs[0]["w_load"])] = runs
    none = settings.get((0.0, 0.0))
    losses = {k: v for k, v in settings.items() if k != (0.0, 0.0)}
    if none is None or not losses:
        sys.exit("check.py: error: need the (0, 0) runs and at least one loss setting")
    checks = Checks()

    ci, cl, mm = mean(none, "cv_importance"), mean(none, "cv_load"), mean(none, "max_mean_load")
    checks.check(ci > 1 and cl > 1 and mm > 2,
                 f"no losses: CV(importance) {ci:.2f}, CV(load) {cl:.2f}, max/mean load {mm:.2f} (collapse: > 1, > 1, > 2)")
    worst = max(losses, key=lambda k: max(mean(losses[k], "cv_importance"), mean(losses[k], "cv_load")))
    text = ", ".join(f"({a:g}, {b:g}): {mean(v, 'cv_importance'):.2f} / {mean(v, 'cv_load'):.2f} / "
                     f"{mean(v, 'max_mean_load'):.2f}" for (a, b), v in sorted(losses.items()))
    checks.check(all(mean(v, "cv_importance") < 0.5 and mean(v, "cv_load") < 0.5 and mean(v, "max_mean_load") < 2
                     for v in losses.values()),
                 f"every loss restores balance (CV(imp) / CV(load) / max/mean < 0.5 / 0.5 / 2): {text}; least balanced {worst}")
    e0 = mean(none, "test_error")
    errors = {k: mean(v, "test_error") for k, v in losses.items()}
    checks.check(all(e0 > e for e in errors.values()),
                 f"quality drops without the losses: test error {100 * e0:.2f}% without, " +
                 ", ".join(f"({a:g}, {b:g}): {100 * e:.2f}%" for (a, b), e in sorted(errors.items())))
    checks.finish()


if __name__ == "__main__":
    main()
