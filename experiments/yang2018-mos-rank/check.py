#!/usr/bin/env python3
"""Shape checks of the rank experiment against Yang et al. (2017) (docs/methods.md#mixture-of-softmaxes: a single softmax's
log-probability matrix has rank <= d + 1; on a target of known high rank, a softmax with d < rank - 1
cannot reach the true log-likelihood, MoS can, and MoS's rank grows with K until it saturates). On the run
files NAME-sSEED.h5 of run.sh and their language (language.h5), with table.py's criteria, fixed before the
full runs: "reaches" = loss minus the true entropy below REACHED_NATS = 0.02 nats in every seed; "rank" at
numpy's double tolerance or at the paper-scale tolerance (1.19e-3 sigma_max); R = the true log-probability
rank (logit rank + 1), so "d < R - 1" is a bottleneck the softmax cannot pass.
  1. bound: every single-softmax head (softmax, MoS with K = 1, and MoC, a softmax of a mixture of
     contexts) has rank <= d + 1 at numpy's tolerance in every seed (the algebra; a failure means an output
     bias or a bug, not noise).
  2. cannot: every softmax with d < R - 1 stays above the truth (gap >= 0.02 nats in every seed).
  3. control: a softmax with d >= R - 1 reaches the truth, so check 2's gap is the bottleneck and not the
     optimiser (fails when no such run is in the folder).
  4. MoS breaks the bound: every MoS with K >= 2 and d < R - 1 has paper-scale rank > d + 1 in every seed
     (the stricter of the two tolerances).
  5. MoS can: some MoS with d < R - 1 reaches the truth, where the softmax of the same d (if run) does not.
  6. rank grows with K: at the d with the most MoS values of K (the K sweep), the paper-scale rank (seed
     mean) does not fall from one K to the next (paper: 6467, 8930, 9973, 9981, 9981 for K = 3..20).
  7. ... until it saturates: there, the rank's rise over the last step of K is smaller than over the first
     (paper: +0 against +2463).
No tolerance beyond table.py's 0.02 nats: checks 6 and 7 compare seed means as they are (the full runs'
seeds differ by at most 2 in rank). INFO: ranks of the other MoS sweeps, and the paper's numbers.
Usage: check.py RESULTS_DIR   (the folder run.sh wrote)"""
import glob
import os
import re
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
import table  # noqa: E402
from shape_check import Checks, results_folder  # noqa: E402



def read_groups(folder):
    """(head, d, K) -> list of runs (one per seed), K = 1 for softmax."""
    groups = {}
    for path in sorted(glob.glob(os.path.join(folder, "*-s*.h5"))):
        if re.match(r".*-s\d+\.h5$", os.path.basename(path)):
            r = table.read_run(path)
            groups.setdefault((r["head"], r["d"], r["k"]), []).append(r)
    return groups


def fmt(runs, key):
    return "/".join(f"{r[key]:.4f}" if isinstance(r[key], float) else str(r[key]) for r in runs)


def main():
    folder = results_folder(__doc__)
    groups = read_groups(folder)
    if not groups:
        print(f"check.py: error: no run files NAME-sSEED.h5 in '{folder}'", file=sys.stderr)
        sys.exit(2)
    R = next(iter(groups.values()))[0]["true_rank"]
    reached = lambda runs: all(r["gap"] < table.REACHED_NATS for r in runs)  # noqa: E731
    checks = Checks()
    checks.info(f"true log-prob rank R = {R}; bottleneck for d < {R - 1}; reaches = gap < {table.REACHED_NATS} nats in every seed")

    single = {key: runs for key, runs in groups.items() if key[0] in ("softmax", "moc") or key[2] == 1}
    over = [f"{h} d={d} K={k}: {fmt(runs, 'rank_eps')}" for (h, d, k), runs in sorted(single.items())
            if any(r["rank_eps"] > d + 1 for r in runs)]
    checks.check(single and not over, "single-softmax heads have rank <= d + 1: " +
                 (("exceeded by " + "; ".join(over)) if over else
                  ", ".join(f"{h} d={d} K={k}: {max(r['rank_eps'] for r in runs)}" for (h, d, k), runs in sorted(single.items()))))

    soft = {d: runs for (h, d, k), runs in groups.items() if h == "softmax"}
    low = {d: runs for d, runs in soft.items() if d < R - 1}
    checks.check(low and all(not any(r["gap"] < table.REACHED_NATS for r in runs) for runs in low.values()),
                 "softmax with d < R - 1 stays above the truth (gap >= 0.02): " +
                 (", ".join(f"d={d}: {fmt(runs, 'gap')}" for d, runs in sorted(low.items())) or "no such run"))
    high = {d: runs for d, runs in soft.items() if d >= R - 1}
    checks.check(any(reached(runs) for runs in high.values()),
                 "control: softmax with d >= R - 1 reaches the truth: " +
                 (", ".join(f"d={d}: {fmt(runs, 'gap')}" for d, runs in sorted(high.items())) or "no such run"))

    mos = {(d, k): runs for (h, d, k), runs in groups.items() if h == "mos" and k >= 2 and d < R - 1}
    checks.check(mos and all(r["rank_paper"] > d + 1 for (d, k), runs in mos.items() for r in runs),
                 "MoS (K >= 2, d < R - 1) exceeds rank d + 1 (paper-scale tol.): " +
                 (", ".join(f"d={d} K={k}: {fmt(runs, 'rank_paper')}" for (d, k), runs in sorted(mos.items())) or "no such run"))
    winners = [(d, k) for (d, k), runs in sorted(mos.items()) if reached(runs) and not (d in soft and reached(soft[d]))]
    desc = lambda d, k: f"d={d} K={k}: {fmt(mos[(d, k)], 'gap')}" + (f" (softmax d={d}: {fmt(soft[d], 'gap')})" if d in soft else "")  # noqa: E731
    checks.check(bool(winners), "MoS with d < R - 1 reaches the truth where the softmax does not: " +
                 ("; ".join(desc(d, k) for d, k in winners) if winners else "none") + "; not reached by " +
                 (", ".join(f"d={d} K={k}" for d, k in sorted(mos) if (d, k) not in winners) or "none"))

    sweeps = {}
    for (h, d, k), runs in groups.items():
        if h == "mos":
            sweeps.setdefault(d, {})[k] = float(np.mean([r["rank_paper"] for r in runs]))
    d_sweep = max(sweeps, key=lambda d: (len(sweeps[d]), -d)) if sweeps else None
    ranks = sorted(sweeps.get(d_sweep, {}).items())
    text = ", ".join(f"K={k}: {v:.1f}" for k, v in ranks)
    if len(ranks) < 3:
        checks.check(False, f"MoS rank grows with K: needs a sweep of at least 3 values of K at one d (have {text or 'none'})")
    else:
        steps = [b[1] - a[1] for a, b in zip(ranks, ranks[1:])]
        checks.check(all(s >= 0 for s in steps), f"MoS d={d_sweep}: paper-scale rank does not fall as K grows: {text}")
        # Saturation among the mixtures proper (K >= 2): K = 1 is a softmax, capped at d + 1, so a first step
        # from K = 1 would dwarf any later one whether or not the rank saturates.
        mixed = [(k, v) for k, v in ranks if k >= 2]
        rises = [b[1] - a[1] for a, b in zip(mixed, mixed[1:])]
        if len(rises) < 2:
            checks.check(False, f"MoS d={d_sweep} saturates: needs at least 3 values of K >= 2 (have {text})")
        else:
            checks.check(rises[-1] < rises[0], f"MoS d={d_sweep}: ... and saturates (K >= 2): last rise "
                                               f"{rises[-1]:+.1f} < first rise {rises[0]:+.1f}")
    for d in sorted(set(sweeps) - {d_sweep}):
        checks.info(f"MoS d={d}: paper-scale rank " + ", ".join(f"K={k}: {v:.1f}" for k, v in sorted(sweeps[d].items())))
    checks.info("paper (PTB, 10000 words): softmax d=400 rank 400; MoS " +
                ", ".join(f"K={k}: {v}" for k, v in table.PAPER_K.items()))
    checks.finish()


if __name__ == "__main__":
    main()
