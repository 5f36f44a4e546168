#!/usr/bin/env python3
"""Capacity factor sweep beside ST-MoE (Zoph et al. 2022) Table 5 (tokens dropped in training with / without
the auxiliary loss). dropped (train): mean dropped fraction over all training batches of 128 tokens; dropped
(test): the test split routed as one batch of 10000 tokens. Values: mean (min-max) over the seeds."""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import sparse_table as st  # noqa: E402

PAPER = {0.75: "10.6% / 15.6%", 1.25: "0.3% / 2.9%", 2.0: "0% / 0.4%"}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("results")
    args = ap.parse_args()
    groups = st.read_groups(args.results)
    rows = sorted(groups.values(), key=lambda runs: (runs[0]["capacity"] <= 0, runs[0]["capacity"], -runs[0]["switch_alpha"]))
    lines = ["| capacity factor | aux loss (alpha) | seeds | dropped (train) | dropped (test) | CV(load) | test error | test cross-entropy | ST-MoE dropped, with / without aux |",
             "|---|---|---|---|---|---|---|---|---|"]
    for runs in rows:
        r = runs[0]
        cap = "dropless" if r["capacity"] <= 0 else f"{r['capacity']:g}"
        lines.append(f"| {cap} | {r['switch_alpha']:g} | {len(runs)} | {st.span(runs, 'dropped_all', '.3f')} | "
                     f"{st.span(runs, 'test_dropped', '.3f')} | {st.span(runs, 'cv_load', '.2f')} | "
                     f"{st.span(runs, 'test_error', '.4f')} | {st.span(runs, 'test_loss', '.4f')} | "
                     f"{PAPER.get(r['capacity'], '-') if r['switch_alpha'] > 0 else ''} |")
    r = rows[0][0]
    st.write(args.results, f"Switch top-1 of {r['experts']} experts, {r['epochs']} epochs, revision {r['revision']}\n\n" +
             "\n".join(lines))


if __name__ == "__main__":
    main()
