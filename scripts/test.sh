#!/usr/bin/env bash
# Quick-start command 2: install what is missing, build, run the whole test suite (ctest).
# The AddressSanitizer + UndefinedBehaviorSanitizer pass (scripts/asan.sh) joins this script once a clean
# run of the whole current suite under it is recorded (issue 8, in progress).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
cd build && ctest --output-on-failure -j"$(nproc)"
