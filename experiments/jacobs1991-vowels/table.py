#!/usr/bin/env python3
"""Reads the run files of run.sh, prints our Table 1 beside Jacobs et al. (1991), writes summary.h5,
table.md and jacobs1991-vowels.png into the results folder."""
import argparse
import os
import sys

import h5py
import numpy as np

PAPER = {  # Table 1: train %, test %, mean epochs to criterion, SD
    "mixture-4": ("4 experts", 88, 90, 1124, 23),
    "mixture-8": ("8 experts", 88, 90, 1083, 12),
    "mlp-6": ("BP 6 hidden", 88, 90, 2209, 83),
    "mlp-12": ("BP 12 hidden", 88, 90, 2435, 124),
}


def read_run(path):
    with h5py.File(path, "r") as f:
        h = f["history"]
        usage = f["eval/train/usage"][()] if "usage" in f["eval/train"] else None
        return {
            "train_acc": f["eval/train"].attrs["accuracy"],
            "test_acc": f["eval/test"].attrs["accuracy"],
            "epoch": int(h.attrs["criterion_epoch"]),
            "epochs_run": int(h.attrs["epochs_run"]),
            "curve": h["train_metric"][()],
            "alive": None if usage is None else int(np.sum(usage > 0.05)),
            "experts": None if usage is None else len(usage),
        }


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("results")
    ap.add_argument("--runs", type=int, required=True)
    ap.add_argument("--expert", default="linear-gaussian", help="the mixtures' expert kind (for the caption)")
    args = ap.parse_args()

    rows, runs = [], {}
    for key in PAPER:
        files = [os.path.join(args.results, f"{key}-seed{s}.h5") for s in range(1, args.runs + 1)]
        missing = [p for p in files if not os.path.exists(p)]
        if missing:
            sys.exit(f"table.py: error: missing run file {missing[0]}")
        runs[key] = [read_run(p) for p in files]

    header = ("model", "train %", "test %", "epochs mean", "epochs SD", "reached", "experts >0.05",
              "paper train/test %", "paper epochs (SD)")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    summary = {}
    for key, rs in runs.items():
        label, ptr, pte, pep, psd = PAPER[key]
        reached = [r["epoch"] for r in rs if r["epoch"] > 0]
        tr = 100 * np.mean([r["train_acc"] for r in rs])
        te = 100 * np.mean([r["test_acc"] for r in rs])
        em = np.mean(reached) if reached else float("nan")
        sd = np.std(reached, ddof=1) if len(reached) > 1 else float("nan")
        alive = [r["alive"] for r in rs if r["alive"] is not None]
        alive_s = f"{np.mean(alive):.1f} of {rs[0]['experts']}" if alive else "-"
        lines.append(f"| {label} | {tr:.1f} | {te:.1f} | {em:.0f} | {sd:.0f} | {len(reached)}/{len(rs)} | {alive_s} "
                     f"| {ptr}/{pte} | {pep} ({psd}) |")
        summary[key] = dict(train_acc=[r["train_acc"] for r in rs], test_acc=[r["test_acc"] for r in rs],
                            criterion_epoch=[r["epoch"] for r in rs],
                            alive=[-1 if r["alive"] is None else r["alive"] for r in rs])
    table = "\n".join(lines)
    print("Jacobs, Jordan, Nowlan & Hinton (1991), Peterson & Barney vowels, error criterion 0.08 "
          f"({args.runs} runs per model; mixture experts: {args.expert})\n")
    print(table)
    with open(os.path.join(args.results, "table.md"), "w") as f:
        f.write(table + "\n")

    tmp = os.path.join(args.results, "summary.h5.tmp")
    with h5py.File(tmp, "w") as f:
        f.attrs["study"] = "jacobs1991-vowels"
        f.attrs["runs"] = args.runs
        for key, cols in summary.items():
            for name, values in cols.items():
                f[f"{key}/{name}"] = np.asarray(values)
            f[key].attrs["paper"] = np.asarray(PAPER[key][1:], dtype=float)
    os.replace(tmp, os.path.join(args.results, "summary.h5"))

    plot(args.results, runs)


def plot(results, runs):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.8))
    colours = {"mixture-4": "C0", "mixture-8": "C1", "mlp-6": "C2", "mlp-12": "C3"}
    for key, rs in runs.items():
        for i, r in enumerate(rs):
            a.plot(np.arange(1, len(r["curve"]) + 1), r["curve"], color=colours[key], alpha=0.5, lw=1,
                   label=PAPER[key][0] if i == 0 else None)
    a.axhline(0.08, color="k", ls="--", lw=1, label="criterion 0.08")
    a.set_xscale("log")
    a.set_xlabel("epoch")
    a.set_ylabel("training MSE per output")
    a.set_title("Learning curves (every run)")
    a.legend()

    # Gate partition of a 4-expert mixture (seed 1) over the training speakers, in formant space.
    with h5py.File(os.path.join(results, "mixture-4-seed1.h5"), "r") as f:
        x = f["eval/train/inputs"][()]
        mean, scale = f["model/standardizer/mean"][()], f["model/standardizer/scale"][()]
        raw = x * scale[:, None] + mean[:, None]
        assign = f["eval/train/assignment"][()]
        labels = f["eval/train/labels"][()]
        names = [s.decode() if isinstance(s, bytes) else s for s in f["model/target_names"][()]]
    markers = ["o", "s", "^", "v"]
    for c, name in enumerate(names):
        m = labels == c
        b.scatter(raw[1, m], raw[0, m], c=[f"C{k}" for k in assign[m]], marker=markers[c % 4], s=14,
                  label=f"/{name}/")
    b.set_xlabel("F2 (Hz)")
    b.set_ylabel("F1 (Hz)")
    b.invert_xaxis()
    b.invert_yaxis()
    b.set_title("4 experts, seed 1: colour = expert chosen by the gate")
    b.legend(title="vowel (marker)")
    fig.tight_layout()
    path = os.path.join(results, "jacobs1991-vowels.png")
    fig.savefig(path, dpi=110)
    print(f"\nwrote {path}, {os.path.join(results, 'summary.h5')} and one HDF5 file per run")


if __name__ == "__main__":
    main()
