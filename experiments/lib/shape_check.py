"""What the studies' check.py scripts share: the results folder from the command line, and the report of
shape checks, one line each (PASS or FAIL with the values; INFO for a value shown beside a check), a count,
and exit status 0 when every check passed, 1 otherwise (a failed check is a finding, not a crash)."""
import sys


def results_folder(doc):
    """The one argument, RESULTS_DIR; the script's docstring as the usage message otherwise."""
    if len(sys.argv) != 2:
        sys.exit(doc)
    return sys.argv[1]


class Checks:
    def __init__(self):
        self.passed = []

    def check(self, ok, text):
        self.passed.append(bool(ok))
        print(f"{'PASS' if ok else 'FAIL'}: {text}")

    def info(self, text):
        print(f"INFO: {text}")

    def finish(self):
        print(f"{sum(self.passed)} of {len(self.passed)} checks pass")
        sys.exit(0 if all(self.passed) else 1)
