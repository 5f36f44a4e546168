#!/usr/bin/env python3
"""Shape checks of the meta-pi rerun against Hampshire & Waibel (1992) (docs/methods.md#meta-pi-network: the gate routes
each speaker to the matching group's expert; meta-pi beats one network trained on everyone, 98.4% against
95.9%; a speaker group without an expert of its own is served by a blend of the others). On each data set
of the folder (Peterson & Barney, Hillenbrand), means over runs of the test speakers' accuracy:
  1. routing: for each speaker type, the frozen meta-pi's mean gate weight on that type's test speakers is
     largest on the type's own expert (the gate matrix's diagonal is each row's maximum; no margin: the
     paper's gate picks the matching module).
  2. meta-pi beats one network trained on everyone: the frozen meta-pi's accuracy is above the 8-hidden
     network's (the experts' size, as the paper's single network had the modules' architecture). Strictly
     above, no margin; an INFO line gives one binomial standard error of the test set, below which the
     difference is not evidence either way, and the 24-hidden network (as many weights as the 3 experts).
  3. a type without its expert is served by a blend of the others: with type t's expert removed (a gate over
     the other two), t's test speakers are recognised at least as well as by the better remaining expert
     alone, within one binomial standard error of t's test tokens, sqrt(p (1 - p) / n) (3 to 5 points here,
     n = 100 to 220): blending must not lose to simply picking the nearest expert, and a gap of a few
     tokens on 100 is not one the test set can show. INFO: the gate's weights on them.
  4. each expert serves its own type: removing type t's expert costs t's test speakers more accuracy than it
     costs any other type's (the drop against the full meta-pi; no margin).
Usage: check.py RESULTS_DIR   (the folder run.sh wrote)"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
import table  # noqa: E402
from shape_check import Checks, results_folder  # noqa: E402

TYPES, NAME = table.TYPES, table.TYPE_NAME


def binomial_se(p_percent, n):
    p = p_percent / 100
    return 100 * np.sqrt(p * (1 - p) / n)


def check_set(checks, ds, runs):
    tag = {"pb": "Peterson & Barney", "hillenbrand": "Hillenbrand"}[ds]
    types = runs["single"][0]["type"]
    count = {t: int(np.sum(types == t)) for t in TYPES}
    n = len(runs['single'])
    checks.info(f"{tag}: {n} run{'s' if n > 1 else ''}, {len(types)} test tokens "
                f"({', '.join(f'{NAME[t]} {count[t]}' for t in TYPES)})")

    G = table.gate_by_type(runs["meta-pi"])
    rows = [f"{NAME[t]} -> " + "/".join(f"{G[i, j]:.2f}" for j in range(3)) for i, t in enumerate(TYPES)]
    checks.check(all(np.argmax(G[i]) == i for i in range(3)),
                 f"{tag}: the gate routes each type to its own expert (weights on the men's/women's/children's "
                 f"experts: {'; '.join(rows)})")

    acc = {k: table.accuracy(runs[k]).mean() for k in ("single", "single-3x", "meta-pi", "meta-pi-tuned")}
    checks.check(acc["meta-pi"] > acc["single"],
                 f"{tag}: meta-pi {acc['meta-pi']:.1f}% > one network (8 hidden) {acc['single']:.1f}% "
                 f"(paper 98.4% > 95.9%)")
    checks.info(f"{tag}: one binomial SE of the test set at {acc['single']:.0f}%: "
                f"{binomial_se(acc['single'], len(types)):.1f} points; one network with 24 hidden "
                f"{acc['single-3x']:.1f}%, meta-pi with fine-tuned experts {acc['meta-pi-tuned']:.1f}%")

    served, text, gates = True, [], []
    for t in TYPES:
        rest = [u for u in TYPES if u != t]
        blend = table.accuracy(runs[f"meta-pi-without-{t}"], t).mean()
        alone = max(table.accuracy(runs[f"expert-{u}"], t).mean() for u in rest)
        se = binomial_se(alone, count[t])
        served &= blend >= alone - se
        text.append(f"{NAME[t]} {blend:.1f}% vs {alone:.1f}% (SE {se:.1f})")
        g = np.mean([r["gate"][:, r["type"] == t].mean(axis=1) for r in runs[f"meta-pi-without-{t}"]], axis=0)
        gates.append(f"{NAME[t]} -> " + ", ".join(f"{NAME[u]}'s {g[j]:.2f}" for j, u in enumerate(rest)))
    checks.check(served, f"{tag}: own expert removed, the blend of the others against the better other expert "
                         f"alone, within one SE: {'; '.join(text)}")
    checks.info(f"{tag}: gate weights on a type whose expert is removed: {'; '.join(gates)}")

    ok, text = True, []
    for t in TYPES:
        drop = {u: table.accuracy(runs["meta-pi"], u).mean() - table.accuracy(runs[f"meta-pi-without-{t}"], u).mean()
                for u in TYPES}
        ok &= all(drop[t] > drop[u] for u in TYPES if u != t)
        text.append(f"without {NAME[t]}'s: " + ", ".join(f"{NAME[u]} {drop[u]:+.1f}" for u in TYPES))
    checks.check(ok, f"{tag}: removing a type's expert costs that type most (accuracy drop against full meta-pi, "
                     f"points): {'; '.join(text)}")


def main():
    folder = results_folder(__doc__, "*/*-test.h5")  # the evaluations, in one folder per data set
    sets = table.sets_found(folder)
    if not sets:
        print(f"check.py: error: no evaluations (<set>/NAME-seedS-test.h5) in '{folder}'", file=sys.stderr)
        sys.exit(2)
    checks = Checks()
    for ds in sets:
        check_set(checks, ds, table.read_set(folder, ds))
    checks.finish()


if __name__ == "__main__":
    main()
