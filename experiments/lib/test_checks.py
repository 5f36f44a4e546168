"""Tests of the studies' shape checks (experiments/*/check.py) on synthetic result folders: HDF5 files with
exactly the fields sparse_table.read_run reads, values chosen so that each check must pass, and then
changed so that one named check must fail; an empty folder is a one-line error. Run by ctest (tests/cli/test_sweep_cli.cpp); prints 'ok' and
exits 0, or names the first wrong outcome and exits 1."""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
EXPERIMENTS = os.path.dirname(HERE)


def fake_run(path, router="topk", top_k=2, capacity=0.0, w_importance=0.0, w_load=0.0, switch_alpha=0.0,
             cv_importance=0.3, cv_load=0.3, max_mean_load=1.5, dropped_tokens=0.0, test_error=0.12, test_loss=0.35):
    steps = 20
    with h5py.File(path, "w") as f:
        f.attrs["git_revision"] = "test"
        f.attrs["seed"] = 1
        m = f.create_group("model").attrs
        m["sparse_router"], m["experts"], m["sparse_top_k"] = router, "16", str(top_k)
        m["sparse_capacity_factor"], m["sparse_w_importance"] = str(capacity), str(w_importance)
        m["sparse_w_load"], m["sparse_switch_alpha"] = str(w_load), str(switch_alpha)
        f["history/seconds"] = np.ones(5)
        r = f.create_group("routing")
        for name, value in (("cv_importance", cv_importance), ("cv_load", cv_load), ("max_mean_load", max_mean_load),
                            ("dropped_fraction", dropped_tokens), ("dropped_token_fraction", dropped_tokens)):
            r[name] = np.full(steps, value)
        t = f.create_group("eval/test").attrs
        t["accuracy"], t["loss"] = 1.0 - test_error, test_loss
        tr = f.create_group("eval/test/routing").attrs
        tr["cv_importance"], tr["cv_load"], tr["max_mean_load"], tr["dropped_fraction"] = 0.1, 0.1, 1.1, 0.0


def run_check(study, folder):
    p = subprocess.run([sys.executable, os.path.join(EXPERIMENTS, study, "check.py"), folder],
                       capture_output=True, text=True)
    return p.returncode, p.stdout


def expect(study, folder, code, fail_text=None):
    rc, out = run_check(study, folder)
    if rc != code or (fail_text and not any(l.startswith("FAIL") and fail_text in l for l in out.splitlines())):
        sys.exit(f"{study}: expected exit {code}{' and a FAIL line with ' + repr(fail_text) if fail_text else ''}, "
                 f"got {rc}:\n{out}")


def capacity_folder(folder, broken):
    drops = {0.75: 0.10, 1.0: 0.05, 1.25: 0.02, 2.0: 0.005}
    if broken:
        drops[1.25] = 0.06  # more than at 1.0: the fall is not monotone
    for c, d in drops.items():
        fake_run(f"{folder}/top2-c{c}-alpha0.01-s1.h5", capacity=c, switch_alpha=0.01, dropped_tokens=d)
        fake_run(f"{folder}/top2-c{c}-alpha0-s1.h5", capacity=c, dropped_tokens=3 * d)
    for alpha in (0, 0.01):
        fake_run(f"{folder}/top2-c0-alpha{alpha}-s1.h5", switch_alpha=alpha)


def balancing_folder(folder, broken):
    fake_run(f"{folder}/imp0-load0-s1.h5", cv_importance=2.0, cv_load=1.6, max_mean_load=5.0,
             test_error=0.11 if broken else 0.14)
    for a, b in ((0.2, 0), (0, 0.2), (0.1, 0.1)):
        fake_run(f"{folder}/imp{a}-load{b}-s1.h5", w_importance=a, w_load=b, test_error=0.12)


def upcycling_folder(folder, broken):
    losses = {"dense": 0.36, "dense-continued": 0.35, "upcycled": 0.34, "scratch": 0.33 if broken else 0.345}
    for name, loss in losses.items():
        fake_run(f"{folder}/{name}-s1.h5", test_loss=loss)


def routers_folder(folder, broken):
    fake_run(f"{folder}/expert-choice-s1.h5", router="expert-choice", cv_load=0.0, max_mean_load=1.0, dropped_tokens=0.01)
    fake_run(f"{folder}/balanced-s1.h5", router="balanced", cv_load=0.0, max_mean_load=1.0)
    fake_run(f"{folder}/soft-s1.h5", router="soft", cv_load=0.0, max_mean_load=1.0)
    fake_run(f"{folder}/loss-free-s1.h5", router="loss-free", cv_load=0.3)
    fake_run(f"{folder}/topk-s1.h5", router="topk", cv_load=1.7, max_mean_load=6.0)
    fake_run(f"{folder}/switch-s1.h5", router="switch", test_error=0.125)
    fake_run(f"{folder}/hash-s1.h5", router="hash", test_error=0.16 if broken else 0.13)


def main():
    cases = (("routers", routers_folder, "hash competitive with Switch"),
             ("switch-capacity", capacity_folder, "fall as the capacity factor grows"),
             ("shazeer2017-balancing", balancing_folder, "quality drops without the losses"),
             ("upcycling", upcycling_folder, "beats the MoE from scratch"))
    for study, make, broken_check in cases:
        for broken in (False, True):
            with tempfile.TemporaryDirectory() as folder:
                make(folder, broken)
                if broken:
                    expect(study, folder, 1, broken_check)
                else:
                    expect(study, folder, 0)
    # An empty folder or none: one line on stderr, exit 2, for every study.
    with tempfile.TemporaryDirectory() as empty:
        for study, _, _ in cases:
            p = subprocess.run([sys.executable, os.path.join(EXPERIMENTS, study, "check.py"), empty],
                               capture_output=True, text=True)
            if p.returncode != 2 or p.stderr.count("\n") != 1 or "no run files" not in p.stderr:
                sys.exit(f"{study}: an empty folder gave exit {p.returncode}: {p.stderr!r}")
    print("ok")


if __name__ == "__main__":
    main()
