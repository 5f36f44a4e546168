#!/usr/bin/env python3
"""Capacity factor sweep beside ST-MoE (Zoph et al. 2022) Table 5 (tokens dropped in training with / without
the auxiliary loss; ST-MoE routes top-2). dropped slots / dropped tokens: mean over all training batches of
128 images of the fraction of routed slots over capacity, and of the tokens no routed expert processed
(for top-1 the two are the same). Test quality on the 10000 held-out images (evaluation is dropless).
Values: mean (min-max) over the seeds."""
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
    rows = sorted(groups.values(), key=lambda runs: (runs[0]["router"] != "switch", runs[0]["capacity"] <= 0,
                                                     runs[0]["capacity"], -runs[0]["switch_alpha"]))
    lines = ["| router | capacity factor | aux loss (alpha) | seeds | dropped slots | dropped tokens | CV(load) | test error | test cross-entropy | ST-MoE dropped, with / without aux |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for runs in rows:
        r = runs[0]
        cap = "dropless" if r["capacity"] <= 0 else f"{r['capacity']:g}"
        router = "switch (top-1)" if r["router"] == "switch" else f"top-{r['top_k']}"
        lines.append(f"| {router} | {cap} | {r['switch_alpha']:g} | {len(runs)} | {st.span(runs, 'dropped_all', '.3f')} | "
                     f"{st.span(runs, 'dropped_tokens_all', '.3f')} | {st.span(runs, 'cv_load', '.2f')} | "
                     f"{st.span(runs, 'test_error', '.4f')} | {st.span(runs, 'test_loss', '.4f')} | "
                     f"{PAPER.get(r['capacity'], '-') if r['switch_alpha'] > 0 and r['router'] != 'switch' else ''} |")
    r = rows[0][0]
    st.write(args.results, f"{r['experts']} experts, {r['epochs']} epochs, revision {r['revision']}\n\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
