#!/usr/bin/env python3
"""Reads the evaluations of run.sh (DIR/<set>/NAME-seedS-test.h5) and prints, per data set: test accuracy of
each model (mean and SD over runs, and per speaker type) beside the paper's, the meta-pi gate's mean weight
per expert by the test speaker's true type, and each type's test speakers when their expert is removed.
Writes table.md and summary.h5 into the results folder. check.py and plot.py read the runs through
read_set() below.
Usage: table.py RESULTS_DIR [--runs N] [--sets pb hillenbrand]   (default: every seed and set found)"""
import argparse
import glob
import os
import re
import sys

import h5py
import numpy as np

TYPES = ["m", "w", "c"]
TYPE_NAME = {"m": "men", "w": "women", "c": "children"}
SET_NAME = {"pb": "Peterson & Barney (1952), 10 vowels, F0-F3",
            "hillenbrand": "Hillenbrand et al. (1995), 12 vowels, f0 F1-F3 (steady state)"}
MODELS = [  # key, label, the paper's test accuracy % (ATR /b,d,g/, 6 Japanese speakers; docs/methods.md#meta-pi-network)
    ("expert-m", "men's expert alone", None),
    ("expert-w", "women's expert alone", None),
    ("expert-c", "children's expert alone", None),
    ("single", "one network, 8 hidden, all speakers", 95.9),
    ("single-3x", "one network, 24 hidden, all speakers", None),
    ("meta-pi", "meta-pi, frozen experts", 98.4),
    ("meta-pi-tuned", "meta-pi, experts fine-tuned", None),
]
KEYS = [k for k, *_ in MODELS] + [f"meta-pi-without-{t}" for t in TYPES]


def fail(message):
    """A one-line error and exit status 2 (bad input), for this script and the ones that import it."""
    print(f"{os.path.basename(sys.argv[0])}: error: {message}", file=sys.stderr)
    sys.exit(2)


def s(x):
    return x.decode() if isinstance(x, bytes) else str(x)


def read_eval(path):
    with h5py.File(path, "r") as f:
        e = f["eval/test"]
        out = {"correct": e["predicted_labels"][()] == e["labels"][()],
               "type": np.array([s(g) for g in e["groups"][()]])}
        out["gate"] = e["gate"][()] if "gate" in e else None
        return out


def sets_found(folder):
    """The data sets of the folder that hold evaluations, in SET_NAME's order."""
    return [ds for ds in SET_NAME if glob.glob(os.path.join(folder, ds, "*-seed*-test.h5"))]


def read_set(folder, ds, runs=None):
    """{model key: [evaluation, ...] in seed order} for one data set: seeds 1..runs, or every seed whose
    evaluations are all there; exit 1 with the first missing file."""
    d = os.path.join(folder, ds)
    if runs is None:
        seeds = {int(m[1]) for p in glob.glob(os.path.join(d, "single-seed*-test.h5"))
                 if (m := re.search(r"-seed(\d+)-test\.h5$", p))}
        runs = max(seeds, default=0)
        if not runs:
            fail(f"no evaluations (NAME-seedS-test.h5) in '{d}'")
    out = {}
    for key in KEYS:
        files = [os.path.join(d, f"{key}-seed{r}-test.h5") for r in range(1, runs + 1)]
        missing = [p for p in files if not os.path.exists(p)]
        if missing:
            fail(f"missing run file {missing[0]}")
        out[key] = [read_eval(p) for p in files]
    return out


def accuracy(rs, t=None):
    """Test accuracy % of each run, on every test speaker or on type t's."""
    return np.array([100 * np.mean(r["correct"] if t is None else r["correct"][r["type"] == t]) for r in rs])


def gate_by_type(rs):
    """Mean gate weight (rows: the test speakers' true type, columns: the experts), over runs."""
    G = np.zeros((len(TYPES), rs[0]["gate"].shape[0]))
    for r in rs:
        for i, t in enumerate(TYPES):
            G[i] += r["gate"][:, r["type"] == t].mean(axis=1) / len(rs)
    return G


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    ap.add_argument("--runs", type=int, help="seeds 1..N (default: every seed found)")
    ap.add_argument("--sets", nargs="+", choices=list(SET_NAME), help="default: every data set found")
    args = ap.parse_args()

    sets = args.sets or sets_found(args.results)
    if not sets:
        fail(f"no evaluations (<set>/NAME-seedS-test.h5) in '{args.results}'")
    md, summary = [], {}
    for ds in sets:
        runs = read_set(args.results, ds, args.runs)
        n_runs = len(runs["single"])
        types = runs["single"][0]["type"]
        counts = {t: int(np.sum(types == t)) for t in TYPES}
        md.append(f"### {SET_NAME[ds]}\n")
        md.append(f"Test tokens: {len(types)} ({', '.join(f'{TYPE_NAME[t]} {counts[t]}' for t in TYPES)}); "
                  f"{n_runs} run{'s' if n_runs > 1 else ''} (initial weights), one speaker split. Paper: ATR /b,d,g/, "
                  "6 Japanese speakers (not public), speaker-dependent TDNN modules.\n")

        # 1. Test accuracy per model, overall and by speaker type.
        hdr = ["model", "test % (SD)"] + [f"{TYPE_NAME[t]} %" for t in TYPES] + ["paper %"]
        lines = ["| " + " | ".join(hdr) + " |", "|" + "---|" * len(hdr)]
        sm = summary.setdefault(ds, {})
        for key, label, paper in MODELS:
            acc = accuracy(runs[key])
            by = {t: accuracy(runs[key], t) for t in TYPES}
            lines.append(f"| {label} | {acc.mean():.1f} ({acc.std(ddof=1) if len(acc) > 1 else 0:.1f}) | "
                         + " | ".join(f"{by[t].mean():.1f}" for t in TYPES) + f" | {paper or '-'} |")
            sm[f"{key}/test_acc"] = acc / 100
            for t in TYPES:
                sm[f"{key}/test_acc_{t}"] = by[t] / 100
        md.append("Test accuracy:\n\n" + "\n".join(lines) + "\n")

        # 2. Mean gate weight by true type (rows) and expert (columns), meta-pi over frozen experts.
        for key, label in (("meta-pi", "frozen experts"), ("meta-pi-tuned", "experts fine-tuned")):
            G = gate_by_type(runs[key])
            sm[f"{key}/gate_by_type"] = G
            lines = ["| test speaker type | " + " | ".join(f"{TYPE_NAME[t]}'s expert" for t in TYPES) + " |",
                     "|" + "---|" * 4]
            for i, t in enumerate(TYPES):
                lines.append(f"| {TYPE_NAME[t]} | " + " | ".join(f"{G[i, j]:.3f}" for j in range(3)) + " |")
            md.append(f"Meta-pi ({label}): mean gate weight on the test speakers:\n\n" + "\n".join(lines) + "\n")

        # 3. One type's expert removed: how that type's test speakers are served.
        hdr = ["removed expert", "its type's test % (2 experts)", "same speakers, full meta-pi %",
               "same speakers, one network (8) %", "same speakers, best other expert alone %",
               "gate weights on them", "all test %"]
        lines = ["| " + " | ".join(hdr) + " |", "|" + "---|" * len(hdr)]
        for t in TYPES:
            rs = runs[f"meta-pi-without-{t}"]
            rest = [u for u in TYPES if u != t]
            acc_t = accuracy(rs, t)
            full_t = accuracy(runs["meta-pi"], t)
            one_t = accuracy(runs["single"], t)
            allacc = accuracy(rs)
            alone_t = max(accuracy(runs[f"expert-{u}"], t).mean() for u in rest)
            g = np.mean([r["gate"][:, r["type"] == t].mean(axis=1) for r in rs], axis=0)
            sm[f"meta-pi-without-{t}/test_acc"] = allacc / 100
            sm[f"meta-pi-without-{t}/test_acc_{t}"] = acc_t / 100
            sm[f"meta-pi-without-{t}/gate_on_{t}"] = g
            gs = ", ".join(f"{TYPE_NAME[u]} {g[j]:.2f}" for j, u in enumerate(rest))
            lines.append(f"| {TYPE_NAME[t]} | {acc_t.mean():.1f} | {full_t.mean():.1f} | {one_t.mean():.1f} | "
                         f"{alone_t:.1f} | {gs} | {allacc.mean():.1f} |")
        md.append("One type's expert removed (gate over the other two, trained on all training speakers):\n\n"
                  + "\n".join(lines) + "\n")

    text = "\n".join(md)
    print("Hampshire & Waibel (1992) meta-pi, rerun on vowel formants keyed by speaker type\n")
    print(text)
    with open(os.path.join(args.results, "table.md"), "w") as f:
        f.write(text)
    tmp = os.path.join(args.results, "summary.h5.tmp")
    with h5py.File(tmp, "w") as f:
        f.attrs["study"] = "hampshire1992-meta-pi"
        f.attrs["runs"] = n_runs
        f.attrs["experts"] = np.array([TYPE_NAME[t] for t in TYPES], dtype=h5py.string_dtype())
        for ds, cols in summary.items():
            for name, values in cols.items():
                f[f"{ds}/{name}"] = np.asarray(values)
    os.replace(tmp, os.path.join(args.results, "summary.h5"))
    print(f"wrote {os.path.join(args.results, 'table.md')} and summary.h5")


if __name__ == "__main__":
    main()
