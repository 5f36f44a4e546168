#!/usr/bin/env bash
# Meta-pi rerun (Hampshire & Waibel 1992, PAPERS.md section 1) on vowel formants keyed by speaker type:
# one MLP expert per type (men m, women w, children c) trained on that type's training speakers alone,
# then a meta-pi gate over the frozen experts trained on all training speakers, against one network
# trained on everyone; then each type's expert removed in turn (gate over the other two, trained on all
# training speakers) to see how that type's test speakers are served. Speaker-disjoint split, stratified
# by type (a third of each type's speakers are test speakers), fixed by --split-seed.
#   run.sh [--runs N] [--out DIR] [--data pb|hillenbrand|both]   (default 3 runs, both data sets)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
runs=3
sets="both"
out="$root/results/hampshire1992-meta-pi"
bin="${MOE_BIN:-$root/build}"
while (($#)); do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --data) sets="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "run.sh: error: unknown argument '$1' (expected --runs N, --out DIR or --data SET)" >&2; exit 2 ;;
  esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: error: --runs must be a positive integer (got '$runs')" >&2; exit 2; }
case "$sets" in
  pb) sets=(pb) ;; hillenbrand) sets=(hillenbrand) ;; both) sets=(pb hillenbrand) ;;
  *) echo "run.sh: error: --data must be pb, hillenbrand or both (got '$sets')" >&2; exit 2 ;;
esac
py=/usr/bin/python3
mkdir -p "$out"
cd "$root"
start=$(date +%s)

# Training: full-batch Adam, a fixed number of epochs, the same for every model.
train="--optimizer adam --epochs 300 --quiet"
lr="--learning-rate 0.01"
hidden=8

for set in "${sets[@]}"; do
  if [[ "$set" == pb ]]; then
    csv="$root/data/cache/peterson-barney.csv"; [[ -s "$csv" ]] || "$bin/moe-data" fetch peterson-barney --out "$csv"
    features=F0,F1,F2,F3; speaker=Speaker; classes=aa,ae,ah,ao,eh,er,ih,iy,uh,uw
  else
    csv="$root/data/cache/hillenbrand.csv"; [[ -s "$csv" ]] || "$bin/moe-data" fetch hillenbrand --out "$csv"
    features=f0,F1,F2,F3; speaker=Type,Sex,Speaker; classes=ae,ah,aw,eh,ei,er,ih,iy,oa,oo,uh,uw
  fi
  d="$out/$set"
  mkdir -p "$d"
  $py "$here/split.py" "$csv" "$d" --features "$features" --speaker "$speaker"
  data="--features $features --target Vowel --classes $classes"
  ev() { "$bin/moe-eval" --model "$1" --data "$d/test.csv" --target Vowel --group Type --name test --quiet -o "$2"; }
  for ((seed = 1; seed <= runs; seed++)); do
    printf '[%s] run %d/%d (%ds)\n' "$set" "$seed" "$runs" "$(($(date +%s) - start))" >&2
    s="$d/seed$seed"
    mkdir -p "$s"
    for t in m w c; do
      "$bin/moe-train" --data "$d/train.csv" $data --filter Type=$t --model mlp --hidden $hidden $train $lr --seed "$seed" -o "$s/expert-$t.h5"
    done
    # One network on everyone: the experts' size, and three times it (as many weights as the three experts).
    "$bin/moe-train" --data "$d/train.csv" $data --model mlp --hidden $hidden $train $lr --seed "$seed" -o "$s/single.h5"
    "$bin/moe-train" --data "$d/train.csv" $data --model mlp --hidden $((3 * hidden)) $train $lr --seed "$seed" -o "$s/single-3x.h5"
    # Meta-pi over the frozen experts, and with the experts fine-tuned through the blend.
    "$bin/moe-train" --data "$d/train.csv" $data --model meta-pi --expert-models "$s/expert-m.h5,$s/expert-w.h5,$s/expert-c.h5" \
      --freeze-experts $train $lr --seed "$seed" -o "$s/meta-pi.h5"
    "$bin/moe-train" --data "$d/train.csv" $data --model meta-pi --expert-models "$s/expert-m.h5,$s/expert-w.h5,$s/expert-c.h5" \
      $train --learning-rate 0.003 --seed "$seed" -o "$s/meta-pi-tuned.h5"
    # One type's expert removed: a gate over the other two, trained on all training speakers.
    for t in m w c; do
      rest=$(for u in m w c; do [[ $u == "$t" ]] || printf '%s/expert-%s.h5,' "$s" "$u"; done)
      "$bin/moe-train" --data "$d/train.csv" $data --model meta-pi --expert-models "${rest%,}" --freeze-experts $train $lr \
        --seed "$seed" -o "$s/meta-pi-without-$t.h5"
    done
    for m in expert-m expert-w expert-c single single-3x meta-pi meta-pi-tuned meta-pi-without-m meta-pi-without-w meta-pi-without-c; do
      ev "$s/$m.h5" "$s/$m-test.h5"
    done
  done
done
printf 'done in %ds\n' "$(($(date +%s) - start))" >&2
$py "$here/table.py" "$out" --runs "$runs" --sets "${sets[@]}"
