#!/usr/bin/env python3
"""Perplexity table of the SOTU run (run.sh) beside Yang et al. (2017)'s Penn Treebank and WikiText-2 numbers
(AWD-LSTM baseline vs MoS, K = 15; PAPERS.md section 4). Ranks: empirical rank of the log-probability matrix
over 1000 distinct test contexts x V words (numpy's tolerance)."""
import argparse
import os

import h5py

PAPER = {"softmax": ("60.0 / 57.3", "68.6 / 65.8"), "moc": ("-", "-"), "mos": ("56.54 / 54.44", "63.88 / 61.45")}
LABEL = {"softmax": "softmax", "moc": "mixture of contexts (K=5)", "mos": "mixture of softmaxes (K=5)"}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("results")
    args = ap.parse_args()
    lines = ["| model | d | valid ppl | test ppl | test log-prob rank | epochs | s / epoch | paper PTB valid/test | paper WT2 valid/test |",
             "|---|---|---|---|---|---|---|---|---|"]
    info = ""
    for head in ("softmax", "moc", "mos"):
        path = os.path.join(args.results, head + ".h5")
        if not os.path.exists(path):
            continue
        with h5py.File(path, "r") as f:
            m = f["model"].attrs
            v, t = f["eval/valid"].attrs, f["eval/test"].attrs
            h = f["history"]
            secs = h["seconds"][()]
            info = (f"vocabulary {m['outputs']}, train/valid/test tokens {f['eval/train'].attrs['n']}/{v['n']}/{t['n']}, "
                    f"documents {len(f['split/train_groups'])}/{len(f['split/valid_groups'])}/{len(f['split/test_groups'])}")
            lines.append(f"| {LABEL[head]} | {m['projection']} | {v['perplexity']:.1f} | {t['perplexity']:.1f} | "
                         f"{f['eval/test/rank'].attrs['rank']} of {f['eval/test/rank'].attrs['contexts']} | {len(secs)} | "
                         f"{secs.mean():.1f} | {PAPER[head][0]} | {PAPER[head][1]} |")
    table = info + "\n\n" + "\n".join(lines)
    print(table)
    with open(os.path.join(args.results, "table.md"), "w") as out:
        out.write(table + "\n")


if __name__ == "__main__":
    main()
