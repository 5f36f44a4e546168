#!/usr/bin/env python3
"""Writes experiments/REPORT.md from a run_all.sh results folder: a summary table (each study, its checks
passed, its time), then per study its title and link, the table of the paper's numbers beside ours
(STUDY/table.md), its plot (STUDY/plot.png, copied into the plots folder so the report can be committed
without the run files), every shape-check line verbatim (PASS, FAIL, INFO), the "Findings" section of the
study's README (why a check fails, where one does), and the machine, revision, date and time taken.

    make_report.py --mode quick --results results/run-all-quick --report experiments/REPORT.md \
                   --plots experiments/report

Reads RESULTS/times.tsv (study, seconds, run.sh exit, check.py exit), RESULTS/STUDY.check and
RESULTS/STUDY/{table.md,plot.png}. A study that did not run or whose run failed is reported as such."""
import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXPERIMENTS = os.path.join(ROOT, "experiments")
# The report's order: the papers in time, then the sparse-layer studies, then the benchmark (run_all.sh runs
# them longest first); a study not named here comes last.
ORDER = ("jacobs1991-vowels", "hampshire1992-meta-pi", "jordan1994-hme-em", "eigen2013-deep-moe",
         "yang2018-mos-rank", "yang2018-mos-sotu", "shazeer2017-balancing", "switch-capacity", "routers",
         "upcycling", "bench")


def fail(message):
    print(f"make_report.py: error: {message}", file=sys.stderr)
    sys.exit(2)


def read_times(path):
    if not os.path.exists(path):
        fail(f"'{path}' does not exist (run experiments/run_all.sh first)")
    rows = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 4 or not all(p.lstrip("-").isdigit() for p in parts[1:]):
                fail(f"'{path}' line {n}: expected STUDY<tab>SECONDS<tab>RUN_EXIT<tab>CHECK_EXIT")
            rows[parts[0]] = tuple(int(p) for p in parts[1:])
    if not set(rows) - {"total"}:
        fail(f"'{path}' lists no study (run experiments/run_all.sh first)")
    return rows


def readme_parts(study):
    """(title, findings): the study README's first heading and its '## Findings' section, if any."""
    path = os.path.join(EXPERIMENTS, study, "README.md")
    if not os.path.exists(path):
        return study, ""
    text = open(path).read()
    title = next((l[2:].strip() for l in text.splitlines() if l.startswith("# ")), study)
    m = re.search(r"^## Findings\s*\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    return title, (m.group(1).strip() if m else "")


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(next(l.split()[1] for l in f if l.startswith("MemTotal")))
        mem = f", {kb / 2**20:.0f} GiB memory"
    except (OSError, StopIteration, ValueError):
        pass
    osname = platform.platform()
    try:
        with open("/etc/os-release") as f:
            osname = next(l.split("=", 1)[1].strip().strip('"') for l in f if l.startswith("PRETTY_NAME"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores{mem}, {osname}"


def git_revision():
    try:
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, check=True).stdout.strip()
        # The report and its plots are this script's own output: they do not make the revision dirty.
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no", "--", ".",
                                ":!experiments/REPORT.md", ":!experiments/report"],
                               capture_output=True, text=True).stdout.strip()
        return rev + (" with uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def run_revisions(results):
    """The git revisions recorded in the run files under `results` (root attribute git_revision): the
    builds that made the numbers, which may be older than the checkout when runs were kept."""
    import glob

    import h5py

    found = set()
    for path in glob.glob(os.path.join(results, "**", "*.h5"), recursive=True):
        try:
            with h5py.File(path, "r") as f:
                rev = f.attrs.get("git_revision")
        except OSError:
            continue
        if rev is not None:
            found.add(rev.decode() if isinstance(rev, bytes) else str(rev))
    return sorted(found)


def check_lines(path):
    if not os.path.exists(path):
        return []
    return [l.rstrip("\n") for l in open(path) if l.strip()]


def minutes(seconds):
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds} s"


def main():
    p = argparse.ArgumentParser(prog="make_report.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--mode", required=True, choices=["quick", "full"])
    p.add_argument("--results", required=True)
    p.add_argument("--report", required=True)
    p.add_argument("--plots", required=True, help="folder the plots are copied to (beside the report)")
    p.add_argument("--jobs", type=int, default=2, help="studies run_all.sh ran at a time")
    a = p.parse_args()
    if not os.path.isdir(os.path.dirname(os.path.abspath(a.report))):
        fail(f"the report's folder '{os.path.dirname(os.path.abspath(a.report))}' does not exist")
    times = read_times(os.path.join(a.results, "times.tsv"))
    total = times.pop("total", (sum(t[0] for t in times.values()), 0, 0))[0]
    os.makedirs(a.plots, exist_ok=True)
    report_dir = os.path.dirname(os.path.abspath(a.report))

    summary, sections = [], []
    ordered = sorted(times.items(), key=lambda kv: ORDER.index(kv[0]) if kv[0] in ORDER else len(ORDER))
    for study, (seconds, run_rc, check_rc) in ordered:
        title, findings = readme_parts(study)
        lines = check_lines(os.path.join(a.results, study + ".check"))
        verdicts = [l for l in lines if l.startswith(("PASS", "FAIL"))]
        passed = sum(l.startswith("PASS") for l in verdicts)
        if run_rc != 0:
            outcome = f"run failed (exit {run_rc})"
        elif check_rc == 2 or not verdicts or not any(l.endswith("checks pass") for l in lines):
            outcome = "check could not run (or stopped before its last check)"
        else:
            outcome = f"{passed} of {len(verdicts)} pass"
        link = f"[{study}]({os.path.relpath(os.path.join(EXPERIMENTS, study), report_dir)}/)"
        summary.append(f"| {link} | {title} | {outcome} | {minutes(seconds)} |")

        s = [f"## {study}: {title}", ""]
        s.append(f"Study folder: {link}. Time: {minutes(seconds)} (wall, {a.mode} mode). Shape checks: "
                 f"{outcome}.")
        s.append("")
        table = os.path.join(a.results, study, "table.md")
        if os.path.exists(table):
            s += ["### Paper and ours", "", open(table).read().strip(), ""]
        else:
            s += ["No table.md was written.", ""]
        plot = os.path.join(a.results, study, "plot.png")
        if os.path.exists(plot):
            target = os.path.join(a.plots, study + ".png")
            shutil.copyfile(plot, target)
            s += [f"![{study}]({os.path.relpath(target, report_dir)})", ""]
        s += ["### Shape checks", "", "```"] + (lines or ["(no output)"]) + ["```", ""]
        if findings:
            s += ["### Findings (from the study's README)", "", findings, ""]
        sections.append("\n".join(s))

    head = [
        "# Reproduction report",
        "",
        f"Generated by `bash experiments/run_all.sh --{a.mode}` ({time.strftime('%Y-%m-%d')}, revision "
        f"{git_revision()}; the run files were made by the build of revision "
        f"{', '.join(run_revisions(a.results)) or 'unknown'}) on {machine()}; {minutes(total)} in all, "
        f"studies {a.jobs} at a time, single-threaded "
        "(the benchmark alone, last). Times are wall times on a shared machine: upper bounds. "
        + ("Quick mode: fewer seeds, epochs and smaller problems than the papers (each study's README says "
           "which), so the numbers are noisier than the full runs recorded in each study's README; the checks test "
           "the shape of each published result, and a check that fails stays here with the measured values "
           "and, under Findings, the reason." if a.mode == "quick" else
           "Full mode: each study's default settings (each study's README discusses them)."),
        "",
        "| study | reproduces | shape checks | time |",
        "|---|---|---|---|",
    ] + summary + [""]
    tmp = a.report + f".tmp-{os.getpid()}"
    with open(tmp, "w") as f:
        f.write("\n".join(head) + "\n" + "\n".join(sections))
    os.replace(tmp, a.report)
    print(f"wrote {a.report} ({len(times)} studies)")


if __name__ == "__main__":
    main()
