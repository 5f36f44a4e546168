#!/usr/bin/env python3
"""Shape checks of the capacity sweep against ST-MoE Table 5 (docs/methods.md#switch-gshard-capacity-and-the-z-loss): the published numbers
are not comparable (a language model at scale), their shape is:
  1. with the auxiliary loss, fewer tokens are dropped as the capacity factor grows (0.75 > 1.0 > 1.25 > 2.0)
  2. at capacity factor 2.0 with the loss, almost nothing is dropped (ST-MoE 0%; here: below 1%)
  3. at every capacity factor, the auxiliary loss drops fewer tokens than no loss
  4. dropless routing drops nothing
Checks 1, 3 and 4 on the top-2 runs (ST-MoE's routing) and on Switch top-1, check 2 on top-2 only (Switch
top-1's value is printed as INFO: ST-MoE's 0% is a top-2 number); seed means of the fraction of tokens no
routed expert processed, over all training batches. Prints one line per check, PASS or FAIL with the
values; exit status 0 when all pass, 1 otherwise (a failed check is a finding to report, not a crash).
Usage: check.py RESULTS_DIR   (the folder run.sh wrote)"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import sparse_table as st  # noqa: E402
from shape_check import Checks, results_folder  # noqa: E402


def main():
    folder = results_folder(__doc__)
    groups = st.read_groups(folder)
    dropped = {}  # (router, capacity, alpha) -> seed mean of dropped tokens
    for runs in groups.values():
        r = runs[0]
        router = "switch" if r["router"] == "switch" else f"top-{r['top_k']}"
        dropped[(router, r["capacity"], r["switch_alpha"] > 0)] = st.seed_mean(runs, "dropped_tokens_all")
    checks = Checks()

    for router in sorted({k[0] for k in dropped}):
        caps = sorted(c for (rt, c, aux) in dropped if rt == router and aux and c > 0)
        with_loss = [dropped[(router, c, True)] for c in caps]
        checks.check(all(a > b for a, b in zip(with_loss, with_loss[1:])),
                     f"{router}, aux loss: dropped tokens fall as the capacity factor grows: " +
                     ", ".join(f"{c:g}: {100 * d:.2f}%" for c, d in zip(caps, with_loss)))
        if 2.0 in caps:
            text = f"{router}, aux loss, capacity 2.0: {100 * dropped[(router, 2.0, True)]:.2f}% dropped (< 1%; ST-MoE 0%, top-2)"
            if router == "top-2":
                checks.check(dropped[(router, 2.0, True)] < 0.01, text)
            else:
                checks.info(text)
        pairs = [(c, dropped[(router, c, True)], dropped.get((router, c, False))) for c in caps]
        checks.check(all(w is not None and a < w for _, a, w in pairs),
                     f"{router}: the aux loss drops fewer tokens at every capacity factor: " +
                     ", ".join(f"{c:g}: {100 * a:.2f}% vs {100 * w:.2f}%" for c, a, w in pairs if w is not None))
        free = [d for (rt, c, _), d in dropped.items() if rt == router and c <= 0]
        checks.check(bool(free) and max(free) == 0.0, f"{router}, dropless: {100 * max(free, default=float('nan')):.2f}% dropped")
    checks.finish()


if __name__ == "__main__":
    main()
