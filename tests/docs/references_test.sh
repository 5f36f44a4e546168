#!/usr/bin/env bash
# The documentation's references stay inside the repository (docs/testing.md, "Layout and how to run"):
#  1. no tracked file names a planning file that is not in the repository (PAPERS.md, DESIGN.md) or an issue
#     number ("issue 6", "Issues #12", "(#7)"): a reader of the code cannot follow either; point at docs/ instead;
#  2. every relative link in a tracked Markdown file, [text](path) or [text](path#anchor), names a file or
#     folder that exists, and an anchor into a Markdown file names one of its headings.
# Scans `git ls-files` (or, outside a git checkout, every file but build output), except this script and
# LICENSE. Fails with one line per finding and a non-zero status; refuses to pass having scanned nothing.
# Usage: references_test.sh SOURCE_DIR
set -euo pipefail
root="${1:?usage: references_test.sh SOURCE_DIR}"
cd "$root"
exec /usr/bin/env python3 - <<'PY'
import os, re, subprocess, sys

def tracked():
    try:
        out = subprocess.run(["git", "ls-files", "-z"], check=True, capture_output=True).stdout.decode()
        return [p for p in out.split("\0") if p]
    except (OSError, subprocess.CalledProcessError):
        skip = ("build", ".git", "data/cache", "results")
        return [os.path.relpath(os.path.join(d, f)) for d, _, fs in os.walk(".") for f in fs
                if not os.path.relpath(d).startswith(skip)]

SELF = "tests/docs/references_test.sh"
files = [p for p in tracked() if p not in (SELF, "LICENSE") and os.path.isfile(p)]
# Built so that this script does not match itself, should it ever be scanned.
bad = re.compile(r"PAPERS" r"\.md|DESIGN" r"\.md|\b[Ii]ssues?[- ]#?[0-9]+|(?<![\w&/$#])#[0-9]+\b")
findings, scanned, links = [], 0, 0
texts = {}
for p in files:
    try:
        with open(p, encoding="utf-8") as f:
            text = f.read()
    except (UnicodeDecodeError, OSError):
        continue  # binary files (images, HDF5)
    scanned += 1
    texts[p] = text
    for n, line in enumerate(text.splitlines(), 1):
        m = bad.search(line)
        if m:
            findings.append(f"{p}:{n}: refers to '{m.group(0)}', which a reader cannot follow (point at docs/ instead)")

# Names of documents and sources a text points at must exist in the repository: an all-capitals document
# name (NOTES.md, KINDS.md) must be some tracked file's name, and a path under tests/ or docs/ a tracked
# file or folder (generated outputs such as out/table.md are neither).
tracked_names = {os.path.basename(p) for p in files}
tracked_paths = set(files) | {os.path.dirname(p) for p in files}
doc_name = re.compile(r"(?<![\w./$-])([A-Z][A-Z0-9_-]*\.md)\b")
repo_path = re.compile(r"(?<![\w./$-])((?:tests|docs)/[\w./-]*[\w])")
for p, text in texts.items():
    for n, line in enumerate(text.splitlines(), 1):
        for name in doc_name.findall(line):
            if name not in tracked_names and not bad.search(name):
                findings.append(f"{p}:{n}: refers to '{name}', which is not in the repository")
        for path in repo_path.findall(line):
            path = path.split("#")[0].rstrip(".")
            last = os.path.basename(path)
            placeholder = last.isupper()  # a placeholder: tests/fuzz/corpus/TARGET
            prefix = any(f.startswith(path) for f in files)  # a file name's stem: .../absurd_extent_
            if path not in tracked_paths and not os.path.exists(path) and not placeholder and not prefix:
                findings.append(f"{p}:{n}: refers to '{path}', which is not in the repository")

def slug(heading):  # GitHub's anchor for a heading
    s = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return s.replace(" ", "-")

anchors = {}
def anchors_of(path):
    if path not in anchors:
        seen, out, fence = {}, set(), False
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith("```"):
                    fence = not fence
                m = None if fence else re.match(r"#{1,6} +(.*?) *#* *$", line)
                if m:
                    s = slug(m.group(1))
                    k = seen.get(s, 0)
                    out.add(s if k == 0 else f"{s}-{k}")
                    seen[s] = k + 1
        anchors[path] = out
    return anchors[path]

link = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?: \"[^\"]*\")?\)")
for p, text in texts.items():
    if not p.endswith(".md"):
        continue
    fence = False
    for n, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            fence = not fence
        if fence or line.startswith("    "):
            continue  # code blocks
        for target in link.findall(re.sub(r"`[^`]*`", "", line)):
            if re.match(r"[a-z]+:", target):
                continue  # http:, https:, mailto:
            links += 1
            path, _, anchor = target.partition("#")
            dest = os.path.normpath(os.path.join(os.path.dirname(p), path)) if path else p
            if not os.path.exists(dest):
                findings.append(f"{p}:{n}: link to '{target}': {dest} does not exist")
            elif anchor and dest.endswith(".md") and anchor not in anchors_of(dest):
                findings.append(f"{p}:{n}: link to '{target}': {dest} has no heading '#{anchor}'")

if scanned < 50 or links < 20:
    findings.append(f"references_test: scanned only {scanned} files and {links} links; is {os.getcwd()} the source tree?")
for f in findings:
    print(f)
if findings:
    sys.exit(1)
print(f"references_test: {scanned} files and {links} relative Markdown links checked")
PY
