#!/usr/bin/env python3
"""Shape checks of the router comparison against docs/methods.md#other-routers (and the two sections before it). The shape:
  1. expert choice balances perfectly (max/mean load 1 in every training batch) and may leave a token to
     no expert (dropped tokens > 0)
  2. balanced assignment (BASE layers) gives every expert the same load in training (max/mean load 1)
  3. soft MoE drops nothing
  4. loss-free balancing balances without a loss: CV(load) per batch below plain softmax top-k's (no loss)
  5. hash routing is competitive with Switch (Roller et al. 2021): test error within 1 point of Switch's
Seed means over the last 10% of the training steps. One line per check, PASS or FAIL with the values; exit
status 0 when all pass, 1 otherwise.
Usage: check.py RESULTS_DIR   (the folder run.sh wrote)"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import sparse_table as st  # noqa: E402
from shape_check import Checks, results_folder  # noqa: E402


def main():
    folder = results_folder(__doc__)
    groups = {runs[0]["router"]: runs for runs in st.read_groups(folder).values()}
    need = ["expert-choice", "balanced", "soft", "loss-free", "topk", "hash", "switch"]
    missing = [r for r in need if r not in groups]
    if missing:
        sys.exit(f"check.py: error: no '{missing[0]}' runs in {folder}")

    def m(router, key):
        return st.seed_mean(groups[router], key)

    checks = Checks()

    checks.check(abs(m("expert-choice", "max_mean_load") - 1) < 1e-9 and m("expert-choice", "dropped_tokens") > 0,
                 f"expert choice: max/mean load {m('expert-choice', 'max_mean_load'):.3f}, "
                 f"{100 * m('expert-choice', 'dropped_tokens'):.2f}% of tokens picked by no expert")
    checks.check(abs(m("balanced", "max_mean_load") - 1) < 1e-9,
                 f"balanced assignment: max/mean load {m('balanced', 'max_mean_load'):.3f} in training")
    checks.check(m("soft", "dropped_tokens") == 0, f"soft MoE: {100 * m('soft', 'dropped_tokens'):.2f}% dropped")
    checks.check(m("loss-free", "cv_load") < m("topk", "cv_load"),
                 f"loss-free balances without a loss: CV(load) {m('loss-free', 'cv_load'):.2f} against top-k's "
                 f"{m('topk', 'cv_load'):.2f}")
    gap = m("hash", "test_error") - m("switch", "test_error")
    checks.check(gap <= 0.01, f"hash competitive with Switch: test error {100 * m('hash', 'test_error'):.2f}% against "
                                  f"{100 * m('switch', 'test_error'):.2f}% ({100 * gap:+.2f} points; within 1)")
    checks.finish()


if __name__ == "__main__":
    main()
