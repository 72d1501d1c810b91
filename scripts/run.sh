#!/usr/bin/env bash
# `make run`: the whole platform on one machine.
#   scripts/run.sh        # venv, PostgreSQL + Redis, migrate, demo data, admin user, then gunicorn,
#                         # a Celery worker and Celery beat; waits, and Ctrl-C stops those three
#                         # (PostgreSQL, Redis and localstripe keep running: `make stop` stops them).
#   scripts/run.sh stop   # stop the app processes of a `make run` from another shell (pid files),
#                         # and localstripe
# Pid files and logs live in .local/run/. DATABASE_URL / REDIS_URL: nothing local is started for them.
# Payments: without STRIPE_SECRET_KEY, localstripe (a fake Stripe server, scripts/localstripe.py) runs on
# LOCALSTRIPE_PORT and the app is pointed at it; with the STRIPE_* keys set, the app uses real Stripe.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RUN_DIR="$ROOT/.local/run"
BIN="$ROOT/.venv/bin"
PORT="${PORT:-8000}"
WEB_CONCURRENCY="${WEB_CONCURRENCY:-3}"
STOP_TIMEOUT="${STOP_TIMEOUT:-30}"
LOCALSTRIPE_PORT="${LOCALSTRIPE_PORT:-8420}"
export LOCALSTRIPE_PORT
# The demo may subscribe a provider to a calendar served on this machine (docs/decisions/0015-calendar-sync.md);
# in production private and loopback addresses stay refused.
export CALENDAR_ALLOW_PRIVATE_URLS="${CALENDAR_ALLOW_PRIVATE_URLS:-1}"
NAMES=(beat gunicorn worker)

log() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
warn() { printf '\033[1;33m!!\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31mxx\033[0m %s\n' "$*" >&2; exit 1; }

# A zombie (exited, not yet reaped by us) counts as gone.
alive() {
  local pid="$1"
  if [ -r "/proc/$pid/stat" ]; then
    local state
    state="$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)" || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
  else
    kill -0 "$pid" 2>/dev/null
  fi
}

# The pid recorded for NAME, if that process is still ours (guards against pid reuse).
pid_of() {
  local file="$RUN_DIR/$1.pid" pid
  [ -s "$file" ] || return 1
  pid="$(cat "$file")"
  alive "$pid" || return 1
  if [ -r "/proc/$pid/cmdline" ]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -Eq 'gunicorn|celery' || return 1
  fi
  echo "$pid"
}

stop_all() {
  local name pid pids=() waited=0
  [ -d "$RUN_DIR" ] && touch "$RUN_DIR/stopping"
  for name in "${NAMES[@]}"; do
    if pid="$(pid_of "$name")"; then
      log "Stopping $name (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  while [ "${#pids[@]}" -gt 0 ]; do
    local still=()
    for pid in "${pids[@]}"; do alive "$pid" && still+=("$pid"); done
    pids=("${still[@]+"${still[@]}"}")
    [ "${#pids[@]}" -eq 0 ] && break
    if [ "$waited" -ge $((STOP_TIMEOUT * 10)) ]; then
      for pid in "${pids[@]}"; do
        warn "pid $pid did not stop in ${STOP_TIMEOUT}s: killing its process group"
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      done
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  for name in "${NAMES[@]}"; do rm -f "$RUN_DIR/$name.pid"; done
  rm -f "$RUN_DIR/stopping"
}

if [ "${1:-}" = stop ]; then
  stop_all
  scripts/services.sh stop-localstripe
  exit 0
fi
[ -z "${1:-}" ] || die "usage: $0 [stop]"

for name in "${NAMES[@]}"; do
  if pid="$(pid_of "$name")"; then die "$name is already running (pid $pid): use 'make stop' first."; fi
done

# 1. The virtualenv.
make -s --no-print-directory -C "$ROOT" venv
# 2 + 3. PostgreSQL and Redis (nothing local when DATABASE_URL / REDIS_URL are set).
scripts/services.sh start
# Payments: localstripe, unless the Stripe keys are set.
LEFT_RUNNING="PostgreSQL and Redis"
USE_LOCALSTRIPE=0
if [ -z "${STRIPE_SECRET_KEY:-}" ]; then
  USE_LOCALSTRIPE=1
  scripts/services.sh start-localstripe
  export STRIPE_API_BASE="http://127.0.0.1:$LOCALSTRIPE_PORT"
  export STRIPE_JS_URL="$STRIPE_API_BASE/js.stripe.com/v3/"
  export STRIPE_SECRET_KEY=sk_test_localstripe STRIPE_PUBLISHABLE_KEY=pk_test_localstripe
  export STRIPE_WEBHOOK_SECRET=whsec_localstripe
  LEFT_RUNNING="PostgreSQL, Redis and localstripe"
  log "Payments use localstripe, a fake Stripe, at $STRIPE_API_BASE (set the STRIPE_* keys for real Stripe)"
else
  [ -n "${STRIPE_PUBLISHABLE_KEY:-}" ] || warn "STRIPE_SECRET_KEY is set but STRIPE_PUBLISHABLE_KEY is not"
  [ -n "${STRIPE_WEBHOOK_SECRET:-}" ] || warn "STRIPE_SECRET_KEY is set but STRIPE_WEBHOOK_SECRET is not"
  log "Payments use Stripe at ${STRIPE_API_BASE:-https://api.stripe.com} (STRIPE_SECRET_KEY is set)"
fi
# 4. Schema.
log "Applying migrations"
"$BIN/python" manage.py migrate --noinput
# 5. Demo data.
log "Seeding demo data"
"$BIN/python" manage.py seed_demo
# 6. An admin user.
log "Ensuring an admin user"
"$BIN/python" manage.py ensure_admin
log "Collecting static files"
"$BIN/python" manage.py collectstatic --noinput -v 0

# 7. The app processes, each in its own process group (set -m) so that a Ctrl-C in the terminal
# reaches only this script, which then stops them in order.
shutting_down=0
shutdown() {
  [ "$shutting_down" -eq 1 ] && return
  shutting_down=1
  set +e
  trap - INT TERM
  echo
  stop_all
  wait 2>/dev/null
  log "${2:-Stopped gunicorn, the Celery worker and beat. $LEFT_RUNNING are still running ('make stop').}"
  exit "${1:-0}"
}
trap 'shutdown 0' INT TERM

mkdir -p "$RUN_DIR"
rm -f "$RUN_DIR/stopping"
set -m
start() {
  local name="$1"
  shift
  "$@" >>"$RUN_DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/$name.pid"
  log "Started $name (pid $!, log .local/run/$name.log)"
}
# gunicorn.conf.py (read from the repo root) holds the rest, the token-redacting access logger included.
start gunicorn env PORT="$PORT" WEB_CONCURRENCY="$WEB_CONCURRENCY" \
  GUNICORN_ACCESS_LOG="$RUN_DIR/gunicorn-access.log" "$BIN/gunicorn" booking_site.wsgi
worker_args=()
[ -n "${CELERY_CONCURRENCY:-}" ] && worker_args=(--concurrency "$CELERY_CONCURRENCY")
start worker "$BIN/celery" -A booking_site worker -l info "${worker_args[@]+"${worker_args[@]}"}"
start beat "$BIN/celery" -A booking_site beat -l info --scheduler django_celery_beat.schedulers:DatabaseScheduler
set +m

check_children() {
  local name
  for name in "${NAMES[@]}"; do
    if ! pid_of "$name" >/dev/null; then
      if [ -e "$RUN_DIR/stopping" ] || [ ! -e "$RUN_DIR/$name.pid" ]; then
        shutdown 0 "Stopped from elsewhere ('make stop')."
      fi
      warn "$name exited; last lines of .local/run/$name.log:"
      tail -n 20 "$RUN_DIR/$name.log" >&2 || true
      shutdown 1
    fi
  done
}

log "Waiting for http://127.0.0.1:$PORT/healthz"
healthy=0
for _ in $(seq 1 60); do
  check_children
  if "$BIN/python" - "$PORT" <<'PY' 2>/dev/null; then
import sys
import urllib.request

urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=2)
PY
    healthy=1
    break
  fi
  sleep 0.5
done
[ "$healthy" -eq 1 ] || { warn "/healthz did not answer 200 within 30s (see .local/run/gunicorn.log)"; shutdown 1; }

# localstripe posts its events to every registered URL; the id makes a rerun replace, not add, ours.
payments_line="Stripe at ${STRIPE_API_BASE:-https://api.stripe.com}"
if [ "$USE_LOCALSTRIPE" -eq 1 ]; then
  payments_line="localstripe at $STRIPE_API_BASE (test card 4242 4242 4242 4242)"
  if "$BIN/python" - "$LOCALSTRIPE_PORT" "http://127.0.0.1:$PORT/payments/webhooks/stripe/" <<'PY'; then
import os
import sys
import urllib.parse
import urllib.request

data = urllib.parse.urlencode({"url": sys.argv[2], "secret": os.environ["STRIPE_WEBHOOK_SECRET"]}).encode()
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/_config/webhooks/booking-site", data=data, timeout=5)
PY
    log "localstripe sends its webhooks to http://127.0.0.1:$PORT/payments/webhooks/stripe/"
  else
    warn "Could not register the webhook with localstripe: payments will not be confirmed"
  fi
fi

# 8. Where to go.
cat <<EOF

  Site         http://127.0.0.1:$PORT/
  Admin        http://127.0.0.1:$PORT/admin/
  API          http://127.0.0.1:$PORT/api/v1/  (Swagger UI: /api/docs/, guide: docs/api.md)
  Health       http://127.0.0.1:$PORT/healthz
  Payments     $payments_line
  Logs         .local/run/{gunicorn,gunicorn-access,worker,beat}.log, .local/localstripe/localstripe.log

  Ctrl-C stops gunicorn, the Celery worker and beat; 'make stop' also stops $LEFT_RUNNING.

EOF

mapfile -t PIDS < <(cat "$RUN_DIR"/{gunicorn,worker,beat}.pid)
while :; do
  wait -n "${PIDS[@]}" || true
  check_children
done
