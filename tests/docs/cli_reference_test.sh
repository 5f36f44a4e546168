#!/usr/bin/env bash
# docs/cli.md is what scripts/cli-reference.sh prints for this build: regenerates it into a temporary file
# and compares. Fails with one line when a flag, its help or a registry changed
# without the reference being regenerated.
# Usage: cli_reference_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src="${1:?usage: cli_reference_test.sh SOURCE_DIR BUILD_DIR}"
build="${2:?usage: cli_reference_test.sh SOURCE_DIR BUILD_DIR}"
fresh="$(mktemp)"
trap 'rm -f "$fresh"' EXIT
bash "$src/scripts/cli-reference.sh" "$build" > "$fresh"
# Not vacuous: the reference must hold every program's help.
for program in moe-train moe-eval moe-data moe-bench; do
  grep -q "^## $program\$" "$fresh" || { echo "cli_reference_test: the generated reference has no section for $program" >&2; exit 1; }
done
if ! cmp -s "$src/docs/cli.md" "$fresh"; then
  echo "docs/cli.md is stale: run scripts/cli-reference.sh build > docs/cli.md"
  exit 1
fi
echo "cli_reference_test: docs/cli.md matches the programs' help"
