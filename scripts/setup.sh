#!/usr/bin/env bash
# Prepares a fresh Debian 12 machine (Node.js 20.19+ present) for the demo and the tests:
# pnpm, the workspace's dependencies, and, with --browsers, Debian's chromium plus the
# tools the tests use (iproute2, nftables; conntrack and coturn for the NAT lab; openssl
# for the test CAs; certutil for Chromium to trust one; systemd-analyze to check the
# relay's unit; redis-server for the relay's rooms tests). Safe to run again: each step is
# skipped when already done. Sourced by
# scripts/demo.sh and scripts/test.sh.
set -euo pipefail

PNPM_VERSION=10.34.9
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

log () { printf '\033[1m[lifeline]\033[0m %s\n' "$*" >&2; }

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  log "Node.js 20.19 or newer is required (found: $(node --version 2>/dev/null || echo none))"
  exit 1
fi

# corepack fails on this kind of machine (signature keys), so pnpm comes from npm
if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  log "installing pnpm $PNPM_VERSION"
  npm install --global --no-fund --no-audit "pnpm@$PNPM_VERSION" >&2
fi

if [ "${1:-}" = "--browsers" ]; then
  missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v nft >/dev/null || missing+=(nftables)
  command -v conntrack >/dev/null || missing+=(conntrack)
  command -v turnserver >/dev/null || missing+=(coturn)
  # the relay's TLS tests make a test CA with it; systemd-analyze checks the relay's unit
  command -v openssl >/dev/null || missing+=(openssl)
  # certutil: the https e2e test trusts its test CA in Chromium's NSS database
  command -v certutil >/dev/null || missing+=(libnss3-tools)
  command -v systemd-analyze >/dev/null || missing+=(systemd)
  # the relay's rooms tests run against a real Redis, started by the tests on a free
  # loopback port; they fail, not skip, without it
  command -v redis-server >/dev/null || missing+=(redis-server)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    if [ "$(id -u)" -ne 0 ]; then
      log "root is needed to install them (and for the e2e network lab)"
      exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
  fi
fi

cd "$root"
log "installing dependencies"
pnpm install --frozen-lockfile --prefer-offline >&2
