#!/usr/bin/env bash
# The sanitized pass of the test suite (scripts/test.sh, so CI, runs it after the normal one): the
# library, the apps and the tests built with AddressSanitizer (leak detection on) and
# UndefinedBehaviorSanitizer in ./build-asan, then the whole ctest suite. Any report fails it: the process
# stops with exit code 86, and a test that runs an app fails on a report from it even where it expected
# the app to fail (tests/cli/run_command.hpp). Any compiler warning fails the build, as in scripts/test.sh's
# normal build (MOE_WARNINGS_AS_ERRORS). -O1 -g1: about half the compile time of RelWithDebInfo's
# -O2 -g (docs/notes/lab-notebook.md). Extra arguments go to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
build="build-asan"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
      -DMOE_SANITIZE=address,undefined -DMOE_WARNINGS_AS_ERRORS=ON >/dev/null
time cmake --build "$build" -j"$(nproc)"
report="halt_on_error=1:print_stacktrace=1:exitcode=86"
export ASAN_OPTIONS="$report:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1"
export UBSAN_OPTIONS="$report"
# Processes under mpirun (the expert-parallel tests) run without leak reports: OpenMPI dlcloses its
# plugins before LeakSanitizer looks (tests/CMakeLists.txt, tests/cli/test_expert_parallel_cli.cpp).
cd "$build"
time ctest --output-on-failure -j"$(nproc)" "$@"
