#!/usr/bin/env bash
# Runs every test: build, lint, typecheck, unit and Node integration tests (real relay
# processes, the hostile-client suite), then the Playwright e2e suite (real relays, two
# Chromiums in network namespaces) and the NAT matrix. Needs root for the namespaces.
#
#   ./scripts/test.sh               what CI runs
#   ./scripts/test.sh --under-load  the same with one CPU core kept busy by a hog for the
#                                   whole run: the suite must hold on a slow machine too
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

under_load=false
for arg in "$@"; do
  case "$arg" in
    --under-load) under_load=true ;;
    *) echo "usage: $0 [--under-load]" >&2; exit 2 ;;
  esac
done

"$root/scripts/setup.sh" --browsers
cd "$root"

if ! $under_load; then
  exec pnpm test
fi

# One busy loop takes one core whole; the scheduler shares the rest. It ends with the
# run, whatever way the run ends.
node -e 'for (;;) {}' &
hog=$!
trap 'kill "$hog" 2>/dev/null || true' EXIT
printf '\033[1m[lifeline]\033[0m running the tests with one core kept busy (pid %s)\n' "$hog" >&2
start=$(date +%s)
status=0
pnpm test || status=$?
printf '\033[1m[lifeline]\033[0m under load: exit %s after %s s\n' "$status" "$(( $(date +%s) - start ))" >&2
exit "$status"
