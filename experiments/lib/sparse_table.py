"""Reading the sparse-layer studies' run files (moe-train --model sparse): quality on the test split and
routing balance, as the studies' table scripts need them."""
import glob
import os
import re

import h5py
import numpy as np


def read_run(path, last_fraction=0.1):
    """Quality and balance of one run. Training-step balance is the mean over the last `last_fraction` of
    the steps (per-batch values, as Shazeer et al. report them); test balance routes the whole test split
    as one batch in evaluation mode."""
    with h5py.File(path, "r") as f:
        m, h, r = f["model"].attrs, f["history"], f["routing"]
        steps = len(r["cv_importance"])
        tail = slice(max(0, steps - max(1, int(steps * last_fraction))), steps)
        t = f["eval/test"].attrs
        tr = f["eval/test/routing"].attrs
        return dict(
            name=os.path.basename(path)[:-3], router=m["sparse_router"], experts=int(m["experts"]),
            capacity=float(m["sparse_capacity_factor"]), w_importance=float(m["sparse_w_importance"]),
            w_load=float(m["sparse_w_load"]), switch_alpha=float(m["sparse_switch_alpha"]),
            test_error=1.0 - float(t["accuracy"]), test_loss=float(t["loss"]),
            cv_importance=float(np.mean(r["cv_importance"][tail])), cv_load=float(np.mean(r["cv_load"][tail])),
            max_mean_load=float(np.mean(r["max_mean_load"][tail])),
            dropped=float(np.mean(r["dropped_fraction"][tail])), dropped_all=float(np.mean(r["dropped_fraction"][()])),
            dropped_tokens_all=float(np.mean(r["dropped_token_fraction"][()])),
            dropped_tokens=float(np.mean(r["dropped_token_fraction"][tail])), top_k=int(m["sparse_top_k"]),
            test_cv_importance=float(tr["cv_importance"]), test_cv_load=float(tr["cv_load"]), test_max_mean_load=float(tr["max_mean_load"]),
            test_dropped=float(tr["dropped_fraction"]),
            seconds_per_epoch=float(np.mean(h["seconds"][()])), epochs=len(h["seconds"]),
            revision=f.attrs["git_revision"], seed=int(f.attrs["seed"]))


def read_groups(results):
    """Runs NAME-sSEED.h5 grouped by NAME, in file-name order."""
    groups = {}
    for path in sorted(glob.glob(os.path.join(results, "*-s*.h5"))):
        match = re.match(r"(.*)-s(\d+)\.h5$", os.path.basename(path))
        if match:
            groups.setdefault(match.group(1), []).append(read_run(path))
    return groups


def seed_mean(runs, key):
    """The mean of runs[i][key] over the seeds."""
    return sum(r[key] for r in runs) / len(runs)


def span(runs, key, fmt):
    """mean (min-max) of runs[i][key] over the seeds."""
    v = np.asarray([r[key] for r in runs], dtype=float)
    return format(v[0], fmt) if len(v) == 1 else f"{format(v.mean(), fmt)} ({format(v.min(), fmt)}-{format(v.max(), fmt)})"


def write(results, text):
    print(text)
    with open(os.path.join(results, "table.md"), "w") as out:
        out.write(text + "\n")
