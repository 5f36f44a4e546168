#!/usr/bin/env python3
"""Perplexity table of the SOTU runs (run.sh: HEAD-sSEED.h5) beside Yang et al. (2017)'s Penn Treebank and
WikiText-2 numbers (AWD-LSTM baseline vs MoS, K = 15; docs/methods.md#mixture-of-softmaxes). Values: mean (min-max) over the
seeds. Ranks: empirical rank of the log-probability matrix over 1000 distinct test contexts x V words
(numpy's tolerance). <unk>: the fraction of target tokens that are out of the vocabulary (they are one easy
word, so perplexities over text with many <unk> are flattered)."""
import argparse
import glob
import os

import h5py
import numpy as np

PAPER = {"softmax": ("60.0 / 57.3", "68.6 / 65.8"), "moc": ("-", "-"), "mos": ("56.54 / 54.44", "63.88 / 61.45")}
LABEL = {"softmax": "softmax", "moc": "mixture of contexts (K=5)", "mos": "mixture of softmaxes (K=5)",
         "softmax-moe": "softmax after a sparse MoE FFN layer (8 experts, top-2)"}
PAPER["softmax-moe"] = ("-", "-")


def span(values, fmt):
    v = np.asarray(values, dtype=float)
    return format(v[0], fmt) if len(v) == 1 else f"{format(v.mean(), fmt)} ({format(v.min(), fmt)}-{format(v.max(), fmt)})"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("results")
    args = ap.parse_args()
    lines = ["| model | d | seeds | valid ppl | test ppl | test log-prob rank | epochs (best) | s / epoch | paper PTB valid/test | paper WT2 valid/test |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    info = ""
    for head in ("softmax", "moc", "mos", "softmax-moe"):
        runs = []
        for path in sorted(glob.glob(os.path.join(args.results, head + "-s[0-9]*.h5"))):
            with h5py.File(path, "r") as f:
                m = f["model"].attrs
                v, t, tr = f["eval/valid"].attrs, f["eval/test"].attrs, f["eval/train"].attrs
                h = f["history"]
                runs.append(dict(d=int(m["projection"]), valid=v["perplexity"], test=t["perplexity"],
                                 rank=int(f["eval/test/rank"].attrs["rank"]), contexts=int(f["eval/test/rank"].attrs["contexts"]),
                                 epochs=len(h["seconds"]), best=int(h.attrs["best_epoch"]), secs=float(np.mean(h["seconds"][()]))))
                info = (f"vocabulary {m['outputs']}, train/valid/test tokens {tr['n']}/{v['n']}/{t['n']}, "
                        f"documents {len(f['split/train_groups'])}/{len(f['split/valid_groups'])}/{len(f['split/test_groups'])}, "
                        f"<unk> rate train/valid/test {tr.get('unk_rate', float('nan')):.3f}/"
                        f"{v.get('unk_rate', float('nan')):.3f}/{t.get('unk_rate', float('nan')):.3f}")
        if not runs:
            continue
        epochs = "/".join(f"{r['epochs']} ({r['best']})" for r in runs)
        lines.append(f"| {LABEL[head]} | {runs[0]['d']} | {len(runs)} | {span([r['valid'] for r in runs], '.1f')} | "
                     f"{span([r['test'] for r in runs], '.1f')} | {span([r['rank'] for r in runs], '.0f')} of "
                     f"{runs[0]['contexts']} | {epochs} | {span([r['secs'] for r in runs], '.1f')} | {PAPER[head][0]} | {PAPER[head][1]} |")
    table = info + "\n\n" + "\n".join(lines)
    print(table)
    with open(os.path.join(args.results, "table.md"), "w") as out:
        out.write(table + "\n")


if __name__ == "__main__":
    main()
