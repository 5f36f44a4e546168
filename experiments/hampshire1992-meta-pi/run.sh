#!/usr/bin/env bash
# Meta-pi rerun (Hampshire & Waibel 1992, docs/methods.md#meta-pi-network) on vowel formants keyed by speaker type:
# one MLP expert per type (men m, women w, children c) trained on that type's training speakers alone,
# then a meta-pi gate over the frozen experts trained on all training speakers, against one network
# trained on everyone; then each type's expert removed in turn (gate over the other two, trained on all
# training speakers) to see how that type's test speakers are served. Speaker-disjoint split, stratified
# by type (a third of each type's speakers are test speakers), fixed by split.py's seed. Stage 1 (experts,
# single networks) is experts.toml, run by experiments/lib/sweep.py; stage 2 (meta-pi, which reads stage
# 1's files) and the evaluation on the test speakers are the loops below. Writes DIR/<set>/ (run files,
# NAME-seedS-test.h5 evaluations), DIR/table.md, summary.h5 and plot.png. Complete files are kept
# (--force reruns them).
#   run.sh [--quick] [--runs N] [--out DIR] [--data pb|hillenbrand|both] [--jobs J] [--force]
# Full (the defaults: 3 runs, both data sets; results/hampshire1992-meta-pi): 73 s of CPU on a 2-core AMD
# EPYC. --quick (results/hampshire1992-meta-pi-quick): 1 run (seed 1) of each data set, 25 s; options after
# --quick override it. Every run uses 1 thread.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
source "$root/experiments/lib/args.sh"
runs=3
data_sets=both
jobs=1
force=()
out="$root/results/hampshire1992-meta-pi"
bin="${MOE_BIN:-$root/build}"
while (($#)); do
  case "$1" in
    # Quick: one run per data set keeps both data sets (they disagree on the shape, README) in the budget.
    --quick) runs=1; data_sets=both; out="$root/results/hampshire1992-meta-pi-quick"; shift ;;
    --runs) need_value "$@"; runs="$2"; shift 2 ;;
    --out) need_value "$@"; out="$2"; shift 2 ;;
    --data) need_value "$@"; data_sets="$2"; shift 2 ;;
    --jobs) need_value "$@"; jobs="$2"; shift 2 ;;
    --force) force=(--force); shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "run.sh: error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: error: --runs must be a positive integer (got '$runs')" >&2; exit 2; }
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: error: --jobs must be a positive integer (got '$jobs')" >&2; exit 2; }
case "$data_sets" in
  pb) sets=(pb) ;; hillenbrand) sets=(hillenbrand) ;; both) sets=(pb hillenbrand) ;;
  *) echo "run.sh: error: --data must be pb, hillenbrand or both (got '$data_sets')" >&2; exit 2 ;;
esac
[[ -x "$bin/moe-train" ]] || { echo "run.sh: error: $bin/moe-train not built (cmake --build build, or set MOE_BIN)" >&2; exit 1; }
py=/usr/bin/python3
mkdir -p "$out"
out="$(cd "$out" && pwd)"  # sweep.py runs from the repository root: give it absolute paths
start=$(date +%s)

# Stage 2 and evaluation run a file only when it is missing (or with --force), as the sweep does.
todo() { [[ ${#force[@]} -gt 0 || ! -e "$1" ]]; }

for set in "${sets[@]}"; do
  if [[ "$set" == pb ]]; then
    csv="$root/data/cache/peterson-barney.csv"; [[ -s "$csv" ]] || "$bin/moe-data" fetch peterson-barney --out "$csv"
    speaker=Speaker
  else
    csv="$root/data/cache/hillenbrand.csv"; [[ -s "$csv" ]] || "$bin/moe-data" fetch hillenbrand --out "$csv"
    speaker=Type,Sex,Speaker  # Hillenbrand numbers speakers within each type and sex
  fi
  d="$out/$set"
  config="$here/$set.toml"
  mkdir -p "$d"
  $py "$here/split.py" "$csv" "$d" --config "$config" --speaker "$speaker"

  # Stage 1: the three experts and the two single networks, every seed.
  $py "$root/experiments/lib/sweep.py" "$here/experts.toml" run --out "$d" --jobs "$jobs" "${force[@]}" \
    --set "config=$config" --set "data=$d/train.csv" --set "seed=$(seq -s, 1 "$runs")"

  # Stage 2: meta-pi over each seed's frozen experts, with the experts fine-tuned through the blend, and with
  # one type's expert removed (a gate over the other two). Same training as stage 1 (experts.toml).
  train=(--config "$config" --data "$d/train.csv" --model meta-pi --optimizer adam --epochs 300 --threads 1 --quiet)
  metapi() {  # NAME FLAGS...: one meta-pi run of the current seed, unless its file is complete
    local f="$d/$1-seed$seed.h5"
    shift
    if todo "$f"; then "$bin/moe-train" "${train[@]}" --seed "$seed" "$@" -o "$f"; fi
  }
  for ((seed = 1; seed <= runs; seed++)); do
    printf '[%s] meta-pi, seed %d of %d (%ds)\n' "$set" "$seed" "$runs" "$(($(date +%s) - start))" >&2
    e() { printf '%s/expert-%s-seed%d.h5' "$d" "$1" "$seed"; }
    metapi meta-pi --expert-models "$(e m),$(e w),$(e c)" --freeze-experts --learning-rate 0.01
    metapi meta-pi-tuned --expert-models "$(e m),$(e w),$(e c)" --learning-rate 0.003
    for t in m w c; do
      rest=$(for u in m w c; do [[ $u == "$t" ]] || printf '%s,' "$(e "$u")"; done)
      metapi "meta-pi-without-$t" --expert-models "${rest%,}" --freeze-experts --learning-rate 0.01
    done
    # Every model on the test speakers, with their type (m, w, c) as the group.
    for m in expert-m expert-w expert-c single single-3x meta-pi meta-pi-tuned meta-pi-without-m \
             meta-pi-without-w meta-pi-without-c; do
      f="$d/$m-seed$seed-test.h5"
      if todo "$f" || [[ "$d/$m-seed$seed.h5" -nt "$f" ]]; then
        "$bin/moe-eval" --model "$d/$m-seed$seed.h5" --data "$d/test.csv" --target Vowel --group Type --name test \
          --threads 1 --quiet -o "$f"
      fi
    done
  done
done
$py "$here/table.py" "$out" --runs "$runs" --sets "${sets[@]}"
$py "$here/plot.py" "$out"
echo "run.sh: $(($(date +%s) - start)) s" >&2
