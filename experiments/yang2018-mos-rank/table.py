#!/usr/bin/env python3
"""Table of the rank experiment from the run files of run.sh (one file per model and seed, NAME-sSEED.h5).

Criteria, fixed before the runs they judge (and not tuned afterwards):
  gap      the model's cross-entropy minus the true entropy of the language (nats per word, mean over the
           contexts); 0 is the best any model can do.
  reaches  "reaches the true cross-entropy": gap < REACHED_NATS = 0.02 nats, i.e. a perplexity within 2% of
           the language's own (exp(0.02) = 1.0202), in every seed.
  rank     empirical rank of the model's log-probability matrix (contexts x words) from its stored singular
           values, at two tolerances: numpy.linalg.matrix_rank's default for a double matrix of this size
           (sigma_max * max(M, N) * 2^-52), and PAPER_TOL = 10000 * 2^-23 = 1.19e-3 relative: the default
           numpy tolerance on a float32 10000 x 10000 matrix, the size and precision of the paper's
           log-probability matrix, so that "rank" means what it means at the paper's scale.
  moving   the relative change of the training loss over the last 5% of the epochs (a run still improving
           may reach the criterion later).
Values are mean (min-max) over the seeds."""
import argparse
import glob
import os
import re

import h5py
import numpy as np

REACHED_NATS = 0.02
PAPER_TOL = 10000 * 2.0 ** -23
# Yang et al. (2017) on PTB: rank of MoS's log-probability matrix (of 10000) for each K; softmax d = 400: 400.
PAPER_K = {3: 6467, 5: 8930, 10: 9973, 15: 9981, 20: 9981}


def read_run(path):
    with h5py.File(path, "r") as f:
        m, e = f["model"].attrs, f["eval/train"]
        s = e["rank/singular_values"][()]
        loss = f["history/loss"][()]
        tail = max(1, len(loss) // 20)
        head = m["head"]
        return dict(head=head, d=int(m["projection"]), k=int(m["experts"]) if head != "softmax" else 1,
                    gap=float(e.attrs["loss"] - e.attrs["target_entropy"]),
                    rank_eps=int(np.sum(s > s.max() * max(e["rank"].attrs["contexts"], e["rank"].attrs["words"]) * 2.0 ** -52)),
                    rank_paper=int(np.sum(s > s.max() * PAPER_TOL)),
                    true_rank=int(e.attrs["target_rank"]), seconds=float(f["history"].attrs["train_seconds"]),
                    epochs=len(loss), moving=float(abs(loss[-tail - 1] - loss[-1]) / abs(loss[-1])))


def paper_rank(r):
    """The paper's rank for this row's head and K (MoS), or its softmax (d = 400: 400, its bound d)."""
    if r["head"] == "softmax":
        return "400 (d = 400)"
    return str(PAPER_K[r["k"]]) if r["head"] == "mos" and r["k"] in PAPER_K else "-"


def span(values, fmt):
    v = np.asarray(values, dtype=float)
    if len(v) == 1:
        return format(v[0], fmt)
    return f"{format(v.mean(), fmt)} ({format(v.min(), fmt)}-{format(v.max(), fmt)})"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    args = ap.parse_args()
    with h5py.File(os.path.join(args.results, "language.h5"), "r") as f:
        lang = dict(f["language"].attrs)
    groups = {}
    for path in sorted(glob.glob(os.path.join(args.results, "*-s*.h5"))):
        match = re.match(r"(.*)-s(\d+)\.h5$", os.path.basename(path))
        if not match:
            continue
        groups.setdefault(match.group(1), []).append(read_run(path))
    if not groups:
        raise SystemExit(f"table.py: no run files NAME-sSEED.h5 in {args.results}")
    order = {"softmax": 0, "mos": 1, "moc": 2}
    rows = sorted(groups.values(), key=lambda runs: (order[runs[0]["head"]], runs[0]["d"], runs[0]["k"]))
    epochs = sorted({r["epochs"] for runs in rows for r in runs})
    seeds = sorted({len(runs) for runs in rows})
    lines = [f"Synthetic language: {lang['contexts']} contexts x {lang['words']} words, logit rank {lang['rank']}, "
             f"true entropy {lang['entropy']:.4f} nats, true log-prob rank {rows[0][0]['true_rank']} "
             f"(numpy tolerance)", "",
             f"epochs {'/'.join(map(str, epochs))}{' (MIXED: rerun with run.sh --force)' if len(epochs) > 1 else ''}; "
             f"seeds per row {'/'.join(map(str, seeds))}; reaches: gap < {REACHED_NATS} nats in every seed; "
             f"paper-scale rank tolerance {PAPER_TOL:.3g} x sigma_max", "",
             "| head | d | K | loss - true entropy (nats) | reaches | rank (numpy tol.) | rank (paper-scale tol.) | bound d+1 | "
             "loss still moving | seconds | paper rank (PTB, of 10000) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for runs in rows:
        r0 = runs[0]
        bound = str(r0["d"] + 1) if r0["head"] != "mos" or r0["k"] == 1 else "-"
        reach = "-" if r0["head"] == "softmax" else ("yes" if all(r["gap"] < REACHED_NATS for r in runs) else "no")
        lines.append(f"| {r0['head']} | {r0['d']} | {r0['k']} | {span([r['gap'] for r in runs], '.4f')} | {reach} | "
                     f"{span([r['rank_eps'] for r in runs], '.0f')} | {span([r['rank_paper'] for r in runs], '.0f')} | "
                     f"{bound} | {span([r['moving'] for r in runs], '.1e')} | {span([r['seconds'] for r in runs], '.0f')} | "
                     f"{paper_rank(r0)} |")
    table = "\n".join(lines)
    print(table)
    with open(os.path.join(args.results, "table.md"), "w") as out:
        out.write(table + "\n")


if __name__ == "__main__":
    main()
