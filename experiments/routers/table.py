#!/usr/bin/env python3
"""Router comparison (run.sh) in one table: quality on the 10000 test images, balance per training batch
(mean over the last 10% of the steps; soft MoE: dispatch mass, balanced by construction), balance of the
test split routed in evaluation mode, and seconds per epoch of the reference implementation on 1 thread.
Values: mean (min-max) over the seeds."""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import sparse_table as st  # noqa: E402

ORDER = ["topk", "noisy-topk", "switch", "gshard", "hash", "expert-choice", "soft", "balanced", "loss-free"]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("results")
    args = ap.parse_args()
    groups = st.read_groups(args.results)
    rows = sorted(groups.values(), key=lambda runs: ORDER.index(runs[0]["router"]) if runs[0]["router"] in ORDER else 99)
    lines = ["| router | seeds | test error | test cross-entropy | CV(load) train | max/mean load train | dropped train | CV(load) test | max/mean load test | s / epoch |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for runs in rows:
        lines.append(f"| {runs[0]['router']} | {len(runs)} | {st.span(runs, 'test_error', '.4f')} | "
                     f"{st.span(runs, 'test_loss', '.4f')} | {st.span(runs, 'cv_load', '.2f')} | "
                     f"{st.span(runs, 'max_mean_load', '.2f')} | {st.span(runs, 'dropped', '.3f')} | "
                     f"{st.span(runs, 'test_cv_load', '.2f')} | {st.span(runs, 'test_max_mean_load', '.2f')} | "
                     f"{st.span(runs, 'seconds_per_epoch', '.2f')} |")
    r = rows[0][0]
    st.write(args.results, f"{r['experts']} experts, {r['epochs']} epochs, revision {r['revision']}\n\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
