#!/usr/bin/env bash
# Make sure the browser tests' tools are installed: Chromium (Debian's package, via apt-get), and curl,
# which runs the documented API calls in docs/api.md.
# Never fatal: without root (or without apt-get) it only warns, and the browser tests will say why they skip/fail.
set -uo pipefail

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
warn() { printf '\033[1;33m!!\033[0m %s\n' "$*" >&2; }

if [ -x "$CHROMIUM" ] && command -v curl >/dev/null; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  warn "$CHROMIUM is missing and we are not root: install it with 'sudo apt-get install -y chromium'."
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  warn "$CHROMIUM is missing and apt-get is not available: install Chromium by hand."
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
install() { apt-get install -y -qq --no-install-recommends chromium fonts-liberation curl >/dev/null; }

log "Installing Chromium with apt-get"
# The package lists may be missing or stale on a fresh machine: refresh them once and retry.
if ! apt-cache show chromium >/dev/null 2>&1 || ! install; then
  log "Refreshing apt package lists"
  apt-get update -qq || warn "apt-get update failed"
  install || { warn "Could not install Chromium; browser tests will not be able to run."; exit 0; }
fi
log "Chromium installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
