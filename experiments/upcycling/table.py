#!/usr/bin/env python3
"""Upcycling table (run.sh): test quality of the dense start, its dense continuation, the upcycled MoE
and an MoE trained from scratch. Values: mean (min-max) over the seeds."""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import sparse_table as st  # noqa: E402

ORDER = ["dense", "dense-continued", "upcycled", "scratch"]
WHAT = {"dense": "dense start (1 FFN)", "dense-continued": "dense, continued", "upcycled": "upcycled to 8 experts, top-2",
        "scratch": "8 experts top-2 from scratch"}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("results")
    ap.add_argument("--ratio", type=float, default=float("nan"), help="forward FLOPs of the MoE over the dense network")
    args = ap.parse_args()
    groups = st.read_groups(args.results)
    lines = ["| model | seeds | epochs | test error | test cross-entropy | s / epoch |", "|---|---|---|---|---|---|"]
    for name in ORDER:
        runs = groups.get(name)
        if runs:
            lines.append(f"| {WHAT[name]} | {len(runs)} | {runs[0]['epochs']} | {st.span(runs, 'test_error', '.4f')} | "
                         f"{st.span(runs, 'test_loss', '.4f')} | {st.span(runs, 'seconds_per_epoch', '.2f')} |")
    st.write(args.results, f"forward FLOPs per token, MoE / dense = {args.ratio:.3f}\n\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
