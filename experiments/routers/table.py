#!/usr/bin/env python3
"""Router comparison (run.sh) in one table: quality on the 10000 test images; balance and dropping per
training batch of 128 images (means over the last 10% of the steps; soft MoE: dispatch mass, balanced by
construction; dropped tokens: tokens no routed expert processed, over capacity or, under expert choice,
picked by no expert); balance of the test split routed as one batch in evaluation mode; seconds per epoch
of the reference implementation on 1 thread, from these runs or, with --timing DIR, from the runs in DIR
(e.g. a short run.sh --epochs 3 --seeds 1 on a quiet machine). Values: mean (min-max) over the seeds."""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import sparse_table as st  # noqa: E402

ORDER = ["topk", "noisy-topk", "switch", "gshard", "hash", "expert-choice", "soft", "balanced", "loss-free"]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("results")
    ap.add_argument("--timing", help="take the seconds per epoch from the runs in this directory")
    args = ap.parse_args()
    groups = st.read_groups(args.results)
    timing = st.read_groups(args.timing) if args.timing else groups
    rows = sorted(groups.values(), key=lambda runs: ORDER.index(runs[0]["router"]) if runs[0]["router"] in ORDER else 99)
    lines = ["| router | seeds | test error | test cross-entropy | CV(load) train | max/mean load train | dropped slots train | "
             "dropped tokens train | CV(load) test | max/mean load test | s / epoch |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for runs in rows:
        lines.append(f"| {runs[0]['router']} | {len(runs)} | {st.span(runs, 'test_error', '.4f')} | "
                     f"{st.span(runs, 'test_loss', '.4f')} | {st.span(runs, 'cv_load', '.2f')} | "
                     f"{st.span(runs, 'max_mean_load', '.2f')} | {st.span(runs, 'dropped', '.3f')} | "
                     f"{st.span(runs, 'dropped_tokens', '.3f')} | "
                     f"{st.span(runs, 'test_cv_load', '.2f')} | {st.span(runs, 'test_max_mean_load', '.2f')} | "
                     f"{st.span(timing.get(runs[0]['name'].rsplit('-s', 1)[0], runs), 'seconds_per_epoch', '.2f')} |")
    r = rows[0][0]
    when = f"; seconds per epoch from {args.timing}" if args.timing else ""
    st.write(args.results, f"{r['experts']} experts, {r['epochs']} epochs, revision {r['revision']}{when}\n\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
