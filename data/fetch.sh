#!/bin/sh
# Fetches a named real data set into data/cache/<set>.csv (plus <set>.csv.meta: source, tool and
# package versions, sha256, rows, time) by running the built moe-data. For scripts:
#   data/fetch.sh peterson-barney            # -> data/cache/peterson-barney.csv
#   data/fetch.sh hillenbrand --out x.csv    # extra arguments go to `moe-data fetch`
# The moe-data binary: $MOE_DATA if set, else build/moe-data, else moe-data on $PATH.
set -eu
if [ $# -lt 1 ]; then
  echo "usage: $0 SET [--out FILE]   (sets: peterson-barney, hillenbrand; see data/README.md)" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
set_name=$1
shift
if [ -n "${MOE_DATA:-}" ]; then
  bin=$MOE_DATA
elif [ -x "$root/build/moe-data" ]; then
  bin=$root/build/moe-data
elif command -v moe-data >/dev/null 2>&1; then
  bin=moe-data
else
  echo "fetch.sh: error: moe-data not built: run scripts/build.sh (or set MOE_DATA)" >&2
  exit 1
fi
# moe-data's default output for each set is under data/cache/ of the working directory.
case " $* " in
  *" --out "*|*" --out="*) exec "$bin" fetch "$set_name" "$@" ;;
  *) cd "$root" && exec "$bin" fetch "$set_name" "$@" ;;
esac
