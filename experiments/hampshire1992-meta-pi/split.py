#!/usr/bin/env python3
"""Speaker-disjoint split of a vowel table, stratified by speaker type (m, w, c): a fixed share of each
type's speakers goes to the test set. Drops rows with a missing (0) feature (the features of the data set's
moe-train config, --config). Writes train.csv, test.csv."""
import argparse
import csv
import random
import tomllib


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("data")
    ap.add_argument("out")
    ap.add_argument("--config", required=True, help="the data set's moe-train config (pb.toml, hillenbrand.toml)")
    ap.add_argument("--speaker", default="Speaker", help="comma-separated columns that identify a speaker")
    ap.add_argument("--test-share", type=float, default=1 / 3)
    ap.add_argument("--seed", type=int, default=1992)
    args = ap.parse_args()
    with open(args.data, newline="") as f:
        rows = list(csv.DictReader(f))
    header = list(rows[0].keys())
    with open(args.config, "rb") as f:
        feats = tomllib.load(f)["features"]
    keys = args.speaker.split(",")
    rows = [r for r in rows if all(float(r[c]) > 0 for c in feats)]
    speaker = lambda r: ":".join(r[k] for k in keys)
    rng = random.Random(args.seed)
    test = set()
    for t in sorted({r["Type"] for r in rows}):
        spk = sorted({speaker(r) for r in rows if r["Type"] == t})
        rng.shuffle(spk)
        test.update(spk[: round(args.test_share * len(spk))])
    for name, keep in (("train", lambda r: speaker(r) not in test), ("test", lambda r: speaker(r) in test)):
        with open(f"{args.out}/{name}.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=header)
            w.writeheader()
            w.writerows(r for r in rows if keep(r))


if __name__ == "__main__":
    main()
