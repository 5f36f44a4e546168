#!/usr/bin/env bash
# Fuzzes moekit's input readers with libFuzzer (docs/testing.md#fuzzing).
#
#   scripts/fuzz.sh [TARGET|all] [SECONDS]
#
# TARGET: csv, hdf5, idx, tokenizer or config (tests/fuzz/targets/*.cpp); all (the default) runs each in
# turn, one at a time. SECONDS: how long each runs (default 60). Configures and builds build-fuzz (clang,
# -DMOE_FUZZ=ON: the library with ASan, UBSan and coverage instrumentation), then runs the target on a
# working copy of its corpus, build-fuzz/corpus/TARGET, seeded from tests/fuzz/corpus/TARGET and kept
# between runs (so it grows); tests/fuzz/regressions/TARGET is replayed at the start of every run. Prints
# per target the executions, executions per second, the final corpus (files and bytes) and any crash file
# (crash-*, leak-*, timeout-*, oom-*, under build-fuzz/crashes/TARGET/); exits non-zero when one appeared.
# Environment: MOE_FUZZ_JOBS (build parallelism, default: all cores), MOE_FUZZ_ARGS (extra libFuzzer flags).
set -euo pipefail
cd "$(dirname "$0")/.."

readonly targets_all=(csv hdf5 idx tokenizer config)
target=${1:-all}
seconds=${2:-60}
if [[ ! $seconds =~ ^[0-9]+$ ]] || ((seconds < 1)); then
  echo "fuzz.sh: SECONDS must be a positive whole number (got '$seconds')" >&2
  exit 2
fi
if [[ $target == all ]]; then
  targets=("${targets_all[@]}")
elif [[ " ${targets_all[*]} " == *" $target "* ]]; then
  targets=("$target")
else
  echo "fuzz.sh: unknown target '$target' (expected ${targets_all[*]} or all)" >&2
  exit 2
fi
for tool in clang clang++ cmake; do
  command -v "$tool" >/dev/null || { echo "fuzz.sh: $tool not found (apt-get install clang cmake)" >&2; exit 2; }
done

build="build-fuzz"
if [[ ! -f $build/CMakeCache.txt ]]; then
  CC=clang CXX=clang++ cmake -S . -B "$build" -DMOE_FUZZ=ON -DMOE_BUILD_TESTS=OFF -DMOE_OPENMP=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
build_targets=()
for t in "${targets[@]}"; do build_targets+=(--target "fuzz-$t"); done
cmake --build "$build" -j"${MOE_FUZZ_JOBS:-$(nproc)}" "${build_targets[@]}"

# Leaks are findings; UBSan reports abort (the build adds -fno-sanitize-recover=all) with a stack.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
read -r -a extra <<<"${MOE_FUZZ_ARGS:-}"

status=0
summary=()
for t in "${targets[@]}"; do
  corpus=$build/corpus/$t
  crashes=$build/crashes/$t
  log=$build/logs/$t.log
  mkdir -p "$corpus" "$crashes" "$(dirname "$log")"
  cp -n tests/fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
  inputs=("$corpus")
  if [[ -d tests/fuzz/regressions/$t ]] && [[ -n $(ls -A tests/fuzz/regressions/"$t") ]]; then
    inputs+=("tests/fuzz/regressions/$t")
  fi
  dict=()
  if [[ -f tests/fuzz/dicts/$t.dict ]]; then dict=(-dict="tests/fuzz/dicts/$t.dict"); fi
  before=$(find "$crashes" -type f | wc -l)
  echo "== fuzz-$t for ${seconds}s (log: $log)"
  rc=0
  "$build/tests/fuzz/fuzz-$t" "${inputs[@]}" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 -artifact_prefix="$crashes/" "${dict[@]}" "${extra[@]}" >"$log" 2>&1 || rc=$?
  after=$(find "$crashes" -type f | wc -l)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  runtime=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  execs=${execs:-0}
  runtime=${runtime:-$seconds}
  ((runtime > 0)) || runtime=1
  rate=$((execs / runtime))
  files=$(find "$corpus" -type f | wc -l)
  bytes=$(find "$corpus" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
  new=$((after - before))
  line="$(date -u +%Y-%m-%d) $t: ${runtime}s, $execs executions ($rate/s), corpus $files files / $bytes bytes, new crash files: $new"
  if ((rc != 0 || new > 0)); then
    status=1
    line+=" (exit $rc; see $log and $crashes/)"
    grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|uncaught exception|SUMMARY' "$log" || true
  fi
  echo "$line"
  summary+=("$line")
done
echo "== summary"
printf '%s\n' "${summary[@]}"
exit "$status"
