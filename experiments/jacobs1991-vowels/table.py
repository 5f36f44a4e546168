#!/usr/bin/env python3
"""Reads the run files of run.sh (NAME-lrRATE-seedS.h5), prints our Table 1 beside Jacobs et al. (1991) and
writes table.md and summary.h5 into the results folder. check.py and plot.py read the runs through
read_runs() below.
Usage: table.py RESULTS_DIR [--runs N]   (--runs N: seeds 1..N only; default every seed found)"""
import argparse
import glob
import os
import re
import sys
import tomllib

import h5py
import numpy as np

PAPER = {  # Table 1: label, train %, test %, mean epochs to criterion, SD
    "mixture-4": ("4 experts", 88, 90, 1124, 23),
    "mixture-8": ("8 experts", 88, 90, 1083, 12),
    "mlp-6": ("BP 6 hidden", 88, 90, 2209, 83),
    "mlp-12": ("BP 12 hidden", 88, 90, 2435, 124),
}
ALIVE = 0.05  # an expert is "alive" when its mixing proportion (mean gate probability, training set) is above this
NAME = re.compile(r"^(?P<setting>(mixture-[48](-softmax)?|mlp-6|mlp-12))-lr(?P<lr>[0-9.e-]+)-seed(?P<seed>\d+)\.h5$")


def fail(message):
    """A one-line error and exit status 2 (bad input), for this script and the ones that import it."""
    print(f"{os.path.basename(sys.argv[0])}: error: {message}", file=sys.stderr)
    sys.exit(2)


def paper_key(setting):
    """The paper's row of a setting: the softmax-expert mixtures are compared with the same rows."""
    return setting.removesuffix("-softmax")


def read_run(path):
    with h5py.File(path, "r") as f:
        h = f["history"]
        usage = f["eval/train/usage"][()] if "usage" in f["eval/train"] else None
        config = tomllib.loads(f.attrs["config"])
        return {
            "path": path,
            "seed": int(config["seed"]),
            "lr": float(config["learning-rate"]),
            "train_acc": float(f["eval/train"].attrs["accuracy"]),
            "test_acc": float(f["eval/test"].attrs["accuracy"]),
            "epoch": int(h.attrs["criterion_epoch"]),  # -1: never reached within the epoch budget
            "epochs_run": int(h.attrs["epochs_run"]),
            "curve": h["train_metric"][()],
            "alive": None if usage is None else int(np.sum(usage > ALIVE)),
            "experts": None if usage is None else len(usage),
        }


def read_runs(folder, runs=None):
    """{setting: [run, ...] in seed order} for every setting of the folder; one learning rate per folder
    (exit 2 otherwise: the comparison is at equal step size)."""
    found = {}
    for path in sorted(glob.glob(os.path.join(folder, "*.h5"))):
        m = NAME.match(os.path.basename(path))
        if m and (runs is None or int(m["seed"]) <= runs):
            found.setdefault(m["setting"], []).append(read_run(path))
    if not found:
        fail(f"no run files (SETTING-lrRATE-seedS.h5) in '{folder}'")
    rates = sorted({r["lr"] for rs in found.values() for r in rs})
    if len(rates) > 1:
        fail(f"'{folder}' holds runs at learning rates "
                 f"{', '.join(map(str, rates))}; give each rate its own folder (run.sh --out)")
    order = ["mixture-4", "mixture-8", "mixture-4-softmax", "mixture-8-softmax", "mlp-6", "mlp-12"]
    return {k: sorted(found[k], key=lambda r: r["seed"]) for k in order if k in found}


def epochs_stats(rs):
    """Mean and SD of the epochs to criterion over the runs that reached it (the paper's statistic)."""
    reached = [r["epoch"] for r in rs if r["epoch"] > 0]
    mean = float(np.mean(reached)) if reached else float("nan")
    sd = float(np.std(reached, ddof=1)) if len(reached) > 1 else float("nan")
    return mean, sd, len(reached)


def label(setting):
    return PAPER[paper_key(setting)][0] + (" (softmax experts)" if setting.endswith("-softmax") else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    ap.add_argument("--runs", type=int, help="seeds 1..N only")
    args = ap.parse_args()
    runs = read_runs(args.results, args.runs)

    header = ("model", "train %", "test %", "epochs mean", "epochs SD", "reached", f"experts >{ALIVE}",
              "paper train/test %", "paper epochs (SD)")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    summary = {}
    for key, rs in runs.items():
        _, ptr, pte, pep, psd = PAPER[paper_key(key)]
        em, sd, reached = epochs_stats(rs)
        tr = 100 * np.mean([r["train_acc"] for r in rs])
        te = 100 * np.mean([r["test_acc"] for r in rs])
        alive = [r["alive"] for r in rs if r["alive"] is not None]
        alive_s = f"{np.mean(alive):.1f} of {rs[0]['experts']}" if alive else "-"
        lines.append(f"| {label(key)} | {tr:.1f} | {te:.1f} | {em:.0f} | {sd:.0f} | {reached}/{len(rs)} | {alive_s} "
                     f"| {ptr}/{pte} | {pep} ({psd}) |")
        summary[key] = dict(train_acc=[r["train_acc"] for r in rs], test_acc=[r["test_acc"] for r in rs],
                            criterion_epoch=[r["epoch"] for r in rs], seed=[r["seed"] for r in rs],
                            alive=[-1 if r["alive"] is None else r["alive"] for r in rs])
    lr = next(iter(runs.values()))[0]["lr"]
    seeds = sorted({r["seed"] for rs in runs.values() for r in rs})
    caption = (f"Jacobs, Jordan, Nowlan & Hinton (1991), Peterson & Barney vowels, error criterion 0.08; "
               f"{len(seeds)} runs per model, full-batch momentum 0.9, learning rate {lr:g} (the paper's rates "
               "are not known, so only ratios of epochs compare)")
    table = "\n".join(lines)
    print(caption + "\n")
    print(table)
    with open(os.path.join(args.results, "table.md"), "w") as f:
        f.write(caption + ".\n\n" + table + "\n")

    tmp = os.path.join(args.results, "summary.h5.tmp")
    with h5py.File(tmp, "w") as f:
        f.attrs["study"] = "jacobs1991-vowels"
        f.attrs["runs"] = len(seeds)
        f.attrs["learning_rate"] = lr
        for key, cols in summary.items():
            for name, values in cols.items():
                f[f"{key}/{name}"] = np.asarray(values)
            f[key].attrs["paper"] = np.asarray(PAPER[paper_key(key)][1:], dtype=float)
    os.replace(tmp, os.path.join(args.results, "summary.h5"))
    print(f"\nwrote {os.path.join(args.results, 'table.md')} and summary.h5")


if __name__ == "__main__":
    main()
