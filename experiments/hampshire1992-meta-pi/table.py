#!/usr/bin/env python3
"""Reads the run files of run.sh and prints, per data set: test accuracy of each model (mean and SD over
runs, and per speaker type), the meta-pi gate's mean weight per expert by the test speaker's true type,
and each type's test speakers when their expert is removed. Writes table.md and summary.h5 into the
results folder."""
import argparse
import os
import sys

import h5py
import numpy as np

TYPES = ["m", "w", "c"]
TYPE_NAME = {"m": "men", "w": "women", "c": "children"}
SET_NAME = {"pb": "Peterson & Barney (1952), 10 vowels, F0-F3",
            "hillenbrand": "Hillenbrand et al. (1995), 12 vowels, f0 F1-F3 (steady state)"}
MODELS = [  # key, label
    ("expert-m", "men's expert alone"),
    ("expert-w", "women's expert alone"),
    ("expert-c", "children's expert alone"),
    ("single", "one network, 8 hidden, all speakers"),
    ("single-3x", "one network, 24 hidden, all speakers"),
    ("meta-pi", "meta-pi, frozen experts"),
    ("meta-pi-tuned", "meta-pi, experts fine-tuned"),
]


def s(x):
    return x.decode() if isinstance(x, bytes) else str(x)


def read_eval(path):
    with h5py.File(path, "r") as f:
        e = f["eval/test"]
        out = {"correct": e["predicted_labels"][()] == e["labels"][()],
               "type": np.array([s(g) for g in e["groups"][()]])}
        out["gate"] = e["gate"][()] if "gate" in e else None
        return out


def speakers(path):
    with open(path) as f:
        return sum(1 for _ in f) - 1


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("results")
    ap.add_argument("--runs", type=int, required=True)
    ap.add_argument("--sets", nargs="+", default=["pb"])
    args = ap.parse_args()

    md, summary = [], {}
    for ds in args.sets:
        d = os.path.join(args.results, ds)
        runs = {}
        for key in [k for k, _ in MODELS] + [f"meta-pi-without-{t}" for t in TYPES]:
            files = [os.path.join(d, f"seed{r}", f"{key}-test.h5") for r in range(1, args.runs + 1)]
            missing = [p for p in files if not os.path.exists(p)]
            if missing:
                sys.exit(f"table.py: error: missing run file {missing[0]}")
            runs[key] = [read_eval(p) for p in files]
        types = runs["single"][0]["type"]
        counts = {t: int(np.sum(types == t)) for t in TYPES}
        md.append(f"### {SET_NAME[ds]}\n")
        md.append(f"Test tokens: {len(types)} ({', '.join(f'{TYPE_NAME[t]} {counts[t]}' for t in TYPES)}); "
                  f"{args.runs} runs (initial weights), one speaker split.\n")

        # 1. Test accuracy per model, overall and by speaker type.
        hdr = ["model", "test % (SD)"] + [f"{TYPE_NAME[t]} %" for t in TYPES]
        lines = ["| " + " | ".join(hdr) + " |", "|" + "---|" * len(hdr)]
        sm = summary.setdefault(ds, {})
        for key, label in MODELS:
            acc = np.array([100 * np.mean(r["correct"]) for r in runs[key]])
            by = {t: np.array([100 * np.mean(r["correct"][r["type"] == t]) for r in runs[key]]) for t in TYPES}
            lines.append(f"| {label} | {acc.mean():.1f} ({acc.std(ddof=1) if len(acc) > 1 else 0:.1f}) | "
                         + " | ".join(f"{by[t].mean():.1f}" for t in TYPES) + " |")
            sm[f"{key}/test_acc"] = acc / 100
            for t in TYPES:
                sm[f"{key}/test_acc_{t}"] = by[t] / 100
        md.append("Test accuracy:\n\n" + "\n".join(lines) + "\n")

        # 2. Mean gate weight by true type (rows) and expert (columns), meta-pi over frozen experts.
        for key, label in (("meta-pi", "frozen experts"), ("meta-pi-tuned", "experts fine-tuned")):
            G = np.zeros((3, 3))
            for r in runs[key]:
                for i, t in enumerate(TYPES):
                    G[i] += r["gate"][:, r["type"] == t].mean(axis=1) / len(runs[key])
            sm[f"{key}/gate_by_type"] = G
            lines = ["| test speaker type | " + " | ".join(f"{TYPE_NAME[t]}'s expert" for t in TYPES) + " |",
                     "|" + "---|" * 4]
            for i, t in enumerate(TYPES):
                lines.append(f"| {TYPE_NAME[t]} | " + " | ".join(f"{G[i, j]:.3f}" for j in range(3)) + " |")
            md.append(f"Meta-pi ({label}): mean gate weight on the test speakers:\n\n" + "\n".join(lines) + "\n")

        # 3. One type's expert removed: how that type's test speakers are served.
        hdr = ["removed expert", "its type's test % (2 experts)", "same speakers, full meta-pi %",
               "same speakers, one network (8) %", "gate weights on them", "all test %"]
        lines = ["| " + " | ".join(hdr) + " |", "|" + "---|" * len(hdr)]
        for t in TYPES:
            rs = runs[f"meta-pi-without-{t}"]
            rest = [u for u in TYPES if u != t]
            acc_t = np.array([100 * np.mean(r["correct"][r["type"] == t]) for r in rs])
            full_t = np.array([100 * np.mean(r["correct"][r["type"] == t]) for r in runs["meta-pi"]])
            one_t = np.array([100 * np.mean(r["correct"][r["type"] == t]) for r in runs["single"]])
            allacc = np.array([100 * np.mean(r["correct"]) for r in rs])
            g = np.mean([r["gate"][:, r["type"] == t].mean(axis=1) for r in rs], axis=0)
            sm[f"meta-pi-without-{t}/test_acc"] = allacc / 100
            sm[f"meta-pi-without-{t}/test_acc_{t}"] = acc_t / 100
            sm[f"meta-pi-without-{t}/gate_on_{t}"] = g
            gs = ", ".join(f"{TYPE_NAME[u]} {g[j]:.2f}" for j, u in enumerate(rest))
            lines.append(f"| {TYPE_NAME[t]} | {acc_t.mean():.1f} | {full_t.mean():.1f} | {one_t.mean():.1f} | {gs} | "
                         f"{allacc.mean():.1f} |")
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
        f.attrs["runs"] = args.runs
        f.attrs["experts"] = np.array([TYPE_NAME[t] for t in TYPES], dtype=h5py.string_dtype())
        for ds, cols in summary.items():
            for name, values in cols.items():
                f[f"{ds}/{name}"] = np.asarray(values)
    os.replace(tmp, os.path.join(args.results, "summary.h5"))
    print(f"wrote {os.path.join(args.results, 'table.md')} and summary.h5")


if __name__ == "__main__":
    main()
