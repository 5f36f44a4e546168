#!/usr/bin/env python3
"""Shape checks of the upcycling study against Komatsuzaki et al. (2022) (docs/methods.md#other-routers: copy a
trained dense FFN into every expert, add a fresh router, continue training). Their shape:
  1. upcycling improves on the dense start (it continues from it)
  2. at about equal extra compute, the upcycled MoE beats the dense network trained on for as long
  3. at the same total training, the dense start's epochs included (run.sh: 5 dense + 5 upcycled against
     10 from scratch), the upcycled MoE beats an MoE trained from scratch (the paper finds this for extra
     budgets that are not much larger than the dense run's own)
Test cross-entropy, seed means (lower is better; the error rate is printed beside). One line per check,
PASS or FAIL with the values; exit status 0 when all pass, 1 otherwise.
Usage: check.py RESULTS_DIR   (the folder run.sh wrote)"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import sparse_table as st  # noqa: E402
from shape_check import Checks, results_folder  # noqa: E402


def main():
    folder = results_folder(__doc__)
    groups = st.read_groups(folder)
    missing = [n for n in ("dense", "dense-continued", "upcycled", "scratch") if n not in groups]
    if missing:
        sys.exit(f"check.py: error: no '{missing[0]}' runs in {folder}")

    def m(name, key):
        return st.seed_mean(groups[name], key)

    def show(name):
        return f"{name} {m(name, 'test_loss'):.4f} ({100 * m(name, 'test_error'):.2f}%)"

    checks = Checks()

    checks.check(m("upcycled", "test_loss") < m("dense", "test_loss"), f"upcycled improves on its start: {show('upcycled')} vs {show('dense')}")
    checks.check(m("upcycled", "test_loss") < m("dense-continued", "test_loss"),
                 f"upcycled beats the dense network continued at about equal compute: {show('upcycled')} vs {show('dense-continued')}")
    checks.check(m("upcycled", "test_loss") < m("scratch", "test_loss"),
                 f"upcycled beats the MoE from scratch at equal total epochs: {show('upcycled')} vs {show('scratch')}")
    checks.finish()


if __name__ == "__main__":
    main()
