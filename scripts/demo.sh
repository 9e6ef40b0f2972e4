#!/usr/bin/env bash
# Starts a relay and the demo page, and prints the URL to open (in two tabs).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
cd "$root"
exec pnpm demo
