#!/usr/bin/env bash
# Make sure PgBouncer is installed (Debian's package, via apt-get): the database-tier tests run the race,
# idempotency and dispatcher tests through it (tests/db_tier_fixtures.py). The streaming-replica tests
# need only pg_basebackup and pg_ctl, which come with PostgreSQL (scripts/services.sh).
# Never fatal: without root (or without apt-get) it only warns, and those tests say why they skip.
# The package's own service is left alone: the tests start PgBouncer on a free port with their own config.
set -uo pipefail

log() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
warn() { printf '\033[1;33m!!\033[0m %s\n' "$*" >&2; }

if command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  warn "pgbouncer is missing and we are not root: install it with 'sudo apt-get install -y pgbouncer'."
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  warn "pgbouncer is missing and apt-get is not available: install PgBouncer by hand."
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
install() { apt-get install -y -qq --no-install-recommends pgbouncer >/dev/null; }

log "Installing PgBouncer with apt-get"
# The package lists may be missing or stale on a fresh machine: refresh them once and retry.
if ! apt-cache show pgbouncer >/dev/null 2>&1 || ! install; then
  log "Refreshing apt package lists"
  apt-get update -qq || warn "apt-get update failed"
  install || { warn "Could not install PgBouncer; the PgBouncer tests will skip."; exit 0; }
fi
# A package installed outside systemd may start nothing; where it does start its service (port 6432),
# that one is not ours to stop.
log "PgBouncer installed: $(PATH="$PATH:/usr/sbin" pgbouncer --version 2>/dev/null | head -1)"
