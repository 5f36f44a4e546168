"""What the studies' check.py scripts share: the results folder from the command line, and the report of
shape checks, one line each (PASS or FAIL with the values; INFO for a value shown beside a check), a count,
and exit status 0 when every check passed, 1 otherwise (a failed check is a finding, not a crash)."""
import glob
import os
import sys


def results_folder(doc, pattern="*.h5"):
    """The one argument, RESULTS_DIR, a folder holding run files (`pattern`, relative to it); a one-line
    error (exit 2) otherwise. `doc` (the script's docstring) is printed for -h / --help."""
    script = os.path.basename(sys.argv[0])
    if len(sys.argv) == 2 and sys.argv[1] in ("-h", "--help"):
        print(doc)
        sys.exit(0)
    if len(sys.argv) != 2:
        print(f"{script}: error: usage: {script} RESULTS_DIR (the folder the study's run.sh wrote)", file=sys.stderr)
        sys.exit(2)
    folder = sys.argv[1]
    if not glob.glob(os.path.join(folder, pattern)):
        print(f"{script}: error: no run files ({pattern}) in '{folder}'", file=sys.stderr)
        sys.exit(2)
    return folder


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
        sys.exit(0 if self.passed and all(self.passed) else 1)  # no check made is no evidence
