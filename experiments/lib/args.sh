# shellcheck shell=bash
# Shared by the studies' scripts (sourced): `need_value "$@"` in the case branch of an option that takes a
# value gives a one-line error and exit 2 when the value is missing (the option is last, its value empty,
# or the next word is another option), instead of bash's "$2: unbound variable" under set -u.
need_value() {
  if [[ $# -lt 2 || -z "$2" || "$2" == --* ]]; then
    echo "$(basename "$0"): error: $1 needs a value" >&2
    exit 2
  fi
}
