#!/usr/bin/env python3
"""Shazeer et al. (2017) Table 6 beside our small-scale rerun (run.sh). Balance per training batch of 128
images (mean over the last 10% of the steps), as the paper measures it, and over the 10000 test images
routed as one batch (closer to the paper's large batches: with 2 x 128 slots over 16 experts, counting noise
alone gives a per-batch CV of about 1/sqrt(16) = 0.25). Test error and cross-entropy on the held-out 10000
images. Values: mean (min-max) over the seeds."""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import sparse_table as st  # noqa: E402

PAPER = {(0, 0): "39.8 / 3.04 / 3.01 / 17.80", (0.2, 0): "35.6 / 0.06 / 0.17 / 1.47",
         (0, 0.2): "35.7 / 0.22 / 0.04 / 1.15", (0.1, 0.1): "35.6 / 0.06 / 0.05 / 1.14",
         (0.01, 0.01): "35.7 / 0.48 / 0.11 / 1.37", (1, 1): "35.7 / 0.03 / 0.02 / 1.07"}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("results")
    args = ap.parse_args()
    groups = st.read_groups(args.results)
    rows = sorted(groups.values(), key=lambda runs: list(PAPER).index((runs[0]["w_importance"], runs[0]["w_load"]))
                  if (runs[0]["w_importance"], runs[0]["w_load"]) in PAPER else 99)
    lines = ["| w_importance | w_load | seeds | test error | test cross-entropy | CV(importance) batch | CV(load) batch | max/mean load batch | CV(importance) test | CV(load) test | max/mean load test | paper: ppl / CV(imp) / CV(load) / max/mean |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for runs in rows:
        r = runs[0]
        key = (r["w_importance"], r["w_load"])
        lines.append(f"| {r['w_importance']:g} | {r['w_load']:g} | {len(runs)} | {st.span(runs, 'test_error', '.4f')} | "
                     f"{st.span(runs, 'test_loss', '.4f')} | {st.span(runs, 'cv_importance', '.2f')} | "
                     f"{st.span(runs, 'cv_load', '.2f')} | {st.span(runs, 'max_mean_load', '.2f')} | "
                     f"{st.span(runs, 'test_cv_importance', '.2f')} | {st.span(runs, 'test_cv_load', '.2f')} | "
                     f"{st.span(runs, 'test_max_mean_load', '.2f')} | {PAPER.get(key, '-')} |")
    r = rows[0][0]
    st.write(args.results, f"noisy top-2 of {r['experts']} experts, {r['epochs']} epochs, revision {r['revision']}\n\n" +
             "\n".join(lines))


if __name__ == "__main__":
    main()
