#!/usr/bin/env bash
# Runs every test: build, lint, typecheck, unit and Node integration tests (real relay
# process), then the Playwright e2e suite (real relay, two Chromiums in network
# namespaces). Needs root for the namespaces.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh" --browsers
cd "$root"
exec pnpm test
