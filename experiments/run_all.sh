#!/usr/bin/env bash
# Reruns every study of experiments/ and regenerates experiments/REPORT.md: for each study the paper's
# numbers beside ours (its table.md), its plot, each shape check passed or failed (check.py), and the
# machine and time taken.
#   run_all.sh --quick    fewer seeds and epochs: about 20 minutes on 2 cores (the report that is committed)
#   run_all.sh --full     the papers' settings as far as each study goes (hours; every study's default)
# Options: --jobs J (studies at a time, default 2; each runs single-threaded), --only "STUDY ...",
#          --out DIR (default results/run-all-MODE), --no-report (run and check only).
# A study's runs that are complete are kept (its sweep resumes), so rerunning after an interruption redoes
# only what was not finished. The benchmark study runs last and alone, since it measures speed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/experiments/lib/args.sh"
mode=""
jobs=2
only=""
report=1
out=""
set_mode() {
  [[ -z "$mode" || "$mode" == "$1" ]] || { echo "run_all.sh: error: --quick and --full exclude each other" >&2; exit 2; }
  mode="$1"
}
while (($#)); do
  case "$1" in
    --quick) set_mode quick; shift ;;
    --full) set_mode full; shift ;;
    --jobs) need_value "$@"; jobs="$2"; shift 2 ;;
    --only) need_value "$@"; only="$2"; shift 2 ;;
    --out) need_value "$@"; out="$2"; shift 2 ;;
    --no-report) report=0; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "run_all.sh: error: unknown argument '$1' (expected --quick or --full; --help)" >&2; exit 2 ;;
  esac
done
[[ -n "$mode" ]] || { echo "run_all.sh: error: say --quick or --full" >&2; exit 2; }
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "run_all.sh: error: --jobs must be a positive integer (got '$jobs')" >&2; exit 2; }
out="${out:-$root/results/run-all-$mode}"
mode_flag=""
[[ "$mode" == quick ]] && mode_flag=--quick

# Longest first, so two at a time pack well; bench is separate (timed alone).
studies=(yang2018-mos-rank yang2018-mos-sotu switch-capacity routers eigen2013-deep-moe shazeer2017-balancing
         upcycling jordan1994-hme-em hampshire1992-meta-pi jacobs1991-vowels)
bench=bench
if [[ -n "$only" ]]; then
  for s in $only; do
    [[ -x "$root/experiments/$s/run.sh" || -f "$root/experiments/$s/run.sh" ]] ||
      { echo "run_all.sh: error: no study '$s' (experiments/$s/run.sh)" >&2; exit 2; }
  done
  keep=()
  for s in "${studies[@]}"; do [[ " $only " == *" $s "* ]] && keep+=("$s"); done
  studies=("${keep[@]+"${keep[@]}"}")
  [[ " $only " == *" bench "* ]] || bench=""
fi

# The apps the report describes are the checked-out revision's: build (incremental) unless MOE_BIN names them.
[[ -n "${MOE_BIN:-}" ]] || bash "$root/scripts/build.sh" >/dev/null
mkdir -p "$out"
# times.tsv: a row per study (seconds, run.sh's exit, check.py's exit) and one for the whole pass. With
# --only, the other studies' rows (and the last whole pass) are kept, so the report still covers them.
times="$out/times.tsv"
this_run=" ${studies[*]} $bench "
if [[ -n "$only" && -f "$times" ]]; then
  kept=$(awk -F'\t' -v run="$this_run" 'index(run, " " $1 " ") == 0' "$times")
  printf '%s\n' "$kept" | sed '/^$/d' > "$times"
else
  : > "$times"
fi

# Each study runs as a background job in its own process group (job control on), so an interrupt can stop
# a study with everything it started (sweeps, their moe-train runs, a study's own loops).
set -m
declare -A running=()
stop_all() {
  trap - INT TERM
  for pid in "${!running[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "run_all: interrupted; run the same command again to finish (complete runs are kept)" >&2
  exit 130
}
trap stop_all INT TERM

# One study: its run.sh (log in OUT/STUDY.log), then its check (OUT/STUDY.check); a line in times.tsv.
one_study() {
  local s="$1" t0 rc=0 check_rc=0
  t0=$(date +%s)
  mkdir -p "$out/$s"
  # The whole output to STUDY.log; the sweeps' progress lines ([i/N] NAME: done ..., ETA) also to the terminal.
  set +e
  bash "$root/experiments/$s/run.sh" $mode_flag --out "$out/$s" 2>&1 | tee "$out/$s.log" |
    grep --line-buffered -E '^\[[0-9]+/[0-9]+\]' | sed -u "s|^|  $s |" >&2
  rc=${PIPESTATUS[0]}
  set -e
  if ((rc == 0)); then
    /usr/bin/python3 "$root/experiments/$s/check.py" "$out/$s" > "$out/$s.check" 2>&1 || check_rc=$?
  else
    echo "run.sh failed with exit $rc; last lines of its log:" > "$out/$s.check"
    tail -5 "$out/$s.log" >> "$out/$s.check"
    check_rc=2
  fi
  printf '%s\t%d\t%d\t%d\n' "$s" "$(($(date +%s) - t0))" "$rc" "$check_rc" >> "$times"
}

total=$((${#studies[@]} + (${#bench} > 0 ? 1 : 0)))
start=$(date +%s)
done_count=0
progress() {
  local elapsed=$(($(date +%s) - start))
  local eta=$((done_count > 0 ? elapsed * (total - done_count) / done_count : 0))
  echo "[$done_count/$total] $1 (${elapsed}s elapsed, ETA ${eta}s)" >&2
}
# Waits for one study to end and reports every one that has.
reap() {
  wait -n || true
  for pid in "${!running[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      done_count=$((done_count + 1)); progress "${running[$pid]} finished"; unset "running[$pid]"
    fi
  done
}
for s in "${studies[@]}"; do
  while ((${#running[@]} >= jobs)); do reap; done
  echo "run_all: starting $s" >&2
  one_study "$s" &
  running[$!]="$s"
done
while ((${#running[@]})); do reap; done
if [[ -n "$bench" ]]; then
  # The 1-minute load average lags the studies that just ended; let it fall (at most 2 minutes), so that the
  # load the bench records describes the machine it measures on.
  for ((i = 0; i < 24; i++)); do
    awk '{ exit !($1 < 0.5) }' /proc/loadavg && break
    sleep 5
  done
  echo "run_all: starting bench (alone; load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  one_study bench &
  running[$!]=bench
  wait "$!" || true
  done_count=$((done_count + 1)); progress "bench finished"
fi
running=()
elapsed=$(($(date +%s) - start))
echo "run_all: $total studies in ${elapsed}s; logs and check outputs in $out" >&2
[[ -n "$only" ]] || printf 'total\t%d\t0\t0\n' "$elapsed" >> "$times"

if ((report)); then
  /usr/bin/python3 "$root/experiments/lib/make_report.py" --mode "$mode" --results "$out" --jobs "$jobs" \
    --report "$root/experiments/REPORT.md" --plots "$root/experiments/report"
fi
