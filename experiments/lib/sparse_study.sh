# Shared by the sparse-layer studies (shazeer2017-balancing, switch-capacity, routers, upcycling); sourced
# by their run.sh after they set `here`, `root` and their defaults (epochs, seeds, out). Provides:
#   parse_study_args "$@"   --epochs N, --seeds "S ...", --out DIR, --force, --help (the script's header
#                           comment); a study with flags of its own defines study_option FLAG VALUE,
#                           returning 0 when it took the flag and its value
#   fashion_data            Fashion-MNIST (Debian dataset-fashion-mnist, 60000 training images) as
#                           data/cache/fashion-mnist/train.h5 (50000 images; the other 10000 go to test.h5,
#                           unused here) for --feature-matrix pixels
#   SPARSE_COMMON           moe-train flags every run shares: 20% of the 50000 held out as the test split,
#                           pixels in [0, 1], d_model 64, Adam 1e-3, minibatches of 128, 1 thread
#   run_one NAME FLAGS...   trains one run into $out/NAME.h5 unless a complete file is there already
#                           (moe-train writes atomically, so a file that exists is complete) and FORCE
#                           is not 1 (run.sh --force)
bin="${MOE_BIN:-$root/build}"
fashion="$root/data/cache/fashion-mnist"

parse_study_args() {
  while (($#)); do
    case "$1" in
      --epochs) epochs="$2"; shift 2 ;;
      --seeds) seeds="$2"; shift 2 ;;
      --out) out="$2"; shift 2 ;;
      --force) export FORCE=1; shift ;;
      -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
      *)
        if declare -F study_option >/dev/null && study_option "$1" "${2-}"; then shift 2
        else echo "run.sh: error: unknown argument '$1'" >&2; exit 2; fi ;;
    esac
  done
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

SPARSE_COMMON=(--data "$fashion/train.h5" --feature-matrix pixels --target label --no-standardize
               --test-fraction 0.2 --split-seed 1 --model sparse --d-model 64 --optimizer adam
               --learning-rate 0.001 --batch-size 128 --threads 1 --quiet)

run_one() {
  local name="$1"
  shift
  if [[ "${FORCE:-0}" != 1 && -s "$out/$name.h5" ]]; then echo "  $name (kept)" >&2; return; fi
  echo "  $name" >&2
  "$bin/moe-train" "${SPARSE_COMMON[@]}" "$@" -o "$out/$name.h5"
}
