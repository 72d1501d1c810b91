#!/usr/bin/env bash
# Make sure the benches' HTTP load generator is installed: wrk (Debian's package, via apt-get), and
# pgbench for the raw PostgreSQL reference. gunicorn comes from requirements.txt.
# Never fatal: without root (or without apt-get) it only warns, and the HTTP bench will say it needs wrk.
set -uo pipefail

log() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
warn() { printf '\033[1;33m!!\033[0m %s\n' "$*" >&2; }

if command -v wrk >/dev/null && command -v pgbench >/dev/null; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  warn "wrk or pgbench is missing and we are not root: install them with 'sudo apt-get install -y wrk postgresql-contrib'."
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  warn "wrk or pgbench is missing and apt-get is not available: install them by hand."
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
packages=(wrk)
command -v pgbench >/dev/null || packages+=(postgresql-contrib)
install() { apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null; }

log "Installing ${packages[*]} with apt-get"
# The package lists may be missing or stale on a fresh machine: refresh them once and retry.
if ! apt-cache show wrk >/dev/null 2>&1 || ! install; then
  log "Refreshing apt package lists"
  apt-get update -qq || warn "apt-get update failed"
  install || { warn "Could not install ${packages[*]}; the HTTP bench will not be able to run."; exit 0; }
fi
log "wrk installed: $(command -v wrk)"
