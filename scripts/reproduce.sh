#!/usr/bin/env bash
# Quick-start command 1: install what is missing, build, fetch the Peterson & Barney vowels from Debian's
# praat, and rerun Jacobs, Jordan, Nowlan & Hinton (1991). Arguments go to the experiment
# (e.g. --runs 25 for the paper's 25 runs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
bash experiments/jacobs1991-vowels/run.sh "$@"
