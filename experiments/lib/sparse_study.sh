# shellcheck shell=bash disable=SC2154  # here, root, out, epochs, seeds: set by the run.sh that sources this
# Shared by the sparse-layer studies (shazeer2017-balancing, switch-capacity, routers, upcycling); sourced
# by their run.sh after they set `here`, `root`, their full-mode defaults (epochs, seeds, out) and their
# quick ones (quick_epochs, quick_seeds). Provides:
#   parse_study_args "$@"   --quick, --epochs N, --seeds "S ...", --out DIR, --jobs N, --force, --help (the
#                           script's header comment). --quick takes quick_epochs / quick_seeds for what the
#                           command line does not give (an explicit option wins, before or after --quick),
#                           and writes to OUT-quick unless --out is given; out is made absolute
#                           (sweep.py runs from the repository root). A study with flags of its own
#                           defines study_option FLAG VALUE, returning 0 when it took them
#   fashion_data            Fashion-MNIST (Debian dataset-fashion-mnist, 60000 training images) as
#                           data/cache/fashion-mnist/train.h5 (50000 images; the other 10000 go to test.h5,
#                           unused here), which experiments/lib/sparse_common.toml (the moe-train flags all
#                           four studies share) trains on
#   sweep MANIFEST [--set K=V ...]   runs the manifest's grid through experiments/lib/sweep.py into $out,
#                           $jobs at a time, with the study's seeds and epochs (--set seed=..., epochs=...);
#                           complete run files are kept (sweep.py resumes) unless --force
#   plot_and_table ARGS...  table.py "$out" ARGS (table.md) and plot.py "$out" (plot.png)
source "$root/experiments/lib/args.sh"
bin="${MOE_BIN:-$root/build}"
export MOE_BIN="$bin"
fashion="$root/data/cache/fashion-mnist"
quick=0
jobs=1
force=()

parse_study_args() {
  local given_epochs="" given_seeds="" given_out=""
  while (($#)); do
    case "$1" in
      --quick) quick=1; shift ;;
      --epochs) need_value "$@"; given_epochs="$2"; shift 2 ;;
      --seeds) need_value "$@"; given_seeds="$2"; shift 2 ;;
      --out) need_value "$@"; given_out="$2"; shift 2 ;;
      --jobs) need_value "$@"; jobs="$2"; shift 2 ;;
      --force) force=(--force); shift ;;
      -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
      *)
        if declare -F study_option >/dev/null && study_option "$1" "${2-}"; then shift 2
        else echo "run.sh: error: unknown argument '$1' (see --help)" >&2; exit 2; fi ;;
    esac
  done
  # Quick runs go to their own folder unless told otherwise, so a later full run never keeps them.
  if ((quick)); then epochs="${quick_epochs-$epochs}"; seeds="${quick_seeds-$seeds}"; out="$out-quick"; fi
  out="${given_out:-$out}"
  epochs="${given_epochs:-$epochs}"
  seeds="${given_seeds:-$seeds}"
  [[ -z "$epochs" || "$epochs" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: error: --epochs must be a positive integer (got '$epochs')" >&2; exit 2; }
  [[ "$seeds" =~ ^[0-9]+( +[0-9]+)*$ ]] || { echo "run.sh: error: --seeds must be integers separated by spaces (got '$seeds')" >&2; exit 2; }
  [[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: error: --jobs must be a positive integer (got '$jobs')" >&2; exit 2; }
  mkdir -p "$out"
  out="$(cd "$out" && pwd)"
}

fashion_data() {
  [[ -x "$bin/moe-train" ]] || { echo "run.sh: error: $bin/moe-train not built (bash scripts/build.sh, or set MOE_BIN)" >&2; exit 1; }
  local src=/usr/share/datasets/fashion-mnist
  [[ -s "$src/train-images-idx3-ubyte.gz" ]] || {
    echo "run.sh: error: $src missing: apt-get install dataset-fashion-mnist (scripts/install-deps.sh does)" >&2
    exit 1
  }
  [[ -s "$fashion/train.h5" ]] || "$bin/moe-data" jitter --images "$src/train-images-idx3-ubyte.gz" \
    --labels "$src/train-labels-idx1-ubyte.gz" --canvas 28 --max-shift 0 --test 10000 --seed 1 --out "$fashion" >&2
}

sweep() {
  local manifest="$1"
  shift
  local set=(--set "seed=${seeds// /,}")
  [[ -z "$epochs" ]] || set+=(--set "epochs=$epochs")
  echo "run.sh: $(basename "$(dirname "$manifest")")/$(basename "$manifest") into $out" >&2
  /usr/bin/python3 "$root/experiments/lib/sweep.py" "$manifest" run --out "$out" --jobs "$jobs" "${force[@]}" "${set[@]}" "$@"
}

plot_and_table() {
  /usr/bin/python3 "$here/table.py" "$out" "$@"
  /usr/bin/python3 "$here/plot.py" "$out"
}
