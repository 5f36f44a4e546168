#!/usr/bin/env bash
# Quick-start command 2: install what is missing, build (warnings as errors: MOE_WARNINGS_AS_ERRORS), run
# the whole test suite (ctest), then the same suite again built with AddressSanitizer +
# UndefinedBehaviorSanitizer (scripts/asan.sh; any report fails).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh -DMOE_WARNINGS_AS_ERRORS=ON  # any compiler warning fails the build
(cd build && ctest --output-on-failure -j"$(nproc)")
bash scripts/asan.sh
