#!/usr/bin/env bash
# Start or stop the project-local PostgreSQL cluster and Redis server.
#   scripts/services.sh start   # idempotent: reuses whatever is already running
#   scripts/services.sh stop
#   scripts/services.sh status
#   scripts/services.sh start-localstripe   # the fake Stripe for `make run` (scripts/run.sh); not `make test`,
#   scripts/services.sh stop-localstripe    # whose fixtures start their own (tests/payments/conftest.py)
# When DATABASE_URL (or REDIS_URL, STRIPE_SECRET_KEY) is set, nothing local is started for it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$ROOT/.local"
PGDATA="$LOCAL/pgdata"
PGRUN="$LOCAL/pgrun"
PGLOG="$LOCAL/postgres.log"
PGPORT="${PGPORT:-54320}"
REDIS_PORT="${REDIS_PORT:-63790}"
REDIS_DIR="$LOCAL/redis"
PGDATABASE_NAME="${PGDATABASE_NAME:-booking}"
LOCALSTRIPE_PORT="${LOCALSTRIPE_PORT:-8420}"
LOCALSTRIPE_DIR="$LOCAL/localstripe"
LOCALSTRIPE_START_TIMEOUT="${LOCALSTRIPE_START_TIMEOUT:-20}"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
die() { printf '\033[1;31mxx\033[0m %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# Postgres refuses to run as root, so as root every server command runs as the postgres user.
as_pg() {
  if is_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_bin() {
  local name="$1"
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
  for dir in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    [ -x "$dir/$name" ] && { echo "$dir/$name"; return; }
  done
  return 1
}

apt_install() {
  is_root || die "$* missing; install it (apt-get install -y $*) or run as root."
  command -v apt-get >/dev/null || die "$* missing and apt-get is not available."
  log "Installing $* with apt-get"
  if [ ! -f "$LOCAL/.apt-updated" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    mkdir -p "$LOCAL" && touch "$LOCAL/.apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_postgres_installed() {
  if ! pg_bin initdb >/dev/null || ! pg_bin pg_ctl >/dev/null; then
    apt_install postgresql-15
  fi
}

pg_running() {
  "$(pg_bin pg_isready)" -q -h 127.0.0.1 -p "$PGPORT" >/dev/null 2>&1
}

start_postgres() {
  if [ -n "${DATABASE_URL:-}" ]; then log "DATABASE_URL is set: not starting a local PostgreSQL"; return; fi
  ensure_postgres_installed
  mkdir -p "$LOCAL"
  if pg_running; then log "PostgreSQL already running on 127.0.0.1:$PGPORT"; return; fi
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    log "Creating PostgreSQL cluster in $PGDATA"
    mkdir -p "$PGDATA" "$PGRUN"
    if is_root; then chown -R postgres:postgres "$PGDATA" "$PGRUN"; fi
    chmod 700 "$PGDATA"
    as_pg "$(pg_bin initdb)" -D "$PGDATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    cat >>"$PGDATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PGRUN'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
timezone = 'UTC'
CONF
  fi
  mkdir -p "$PGRUN"
  if is_root; then chown postgres:postgres "$PGRUN"; touch "$PGLOG"; chown postgres:postgres "$PGLOG"; fi
  log "Starting PostgreSQL on 127.0.0.1:$PGPORT"
  as_pg "$(pg_bin pg_ctl)" -D "$PGDATA" -l "$PGLOG" -o "-p $PGPORT" -w -t 60 start >/dev/null \
    || { tail -n 30 "$PGLOG" >&2; die "PostgreSQL did not start (log: $PGLOG)"; }
  if ! "$(pg_bin psql)" -h 127.0.0.1 -p "$PGPORT" -U postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='$PGDATABASE_NAME'" postgres | grep -q 1; then
    "$(pg_bin psql)" -h 127.0.0.1 -p "$PGPORT" -U postgres -qc "CREATE DATABASE $PGDATABASE_NAME" postgres
  fi
}

stop_postgres() {
  [ -n "${DATABASE_URL:-}" ] && return
  if [ -s "$PGDATA/PG_VERSION" ] && pg_bin pg_ctl >/dev/null && as_pg "$(pg_bin pg_ctl)" -D "$PGDATA" status >/dev/null 2>&1; then
    log "Stopping PostgreSQL"
    as_pg "$(pg_bin pg_ctl)" -D "$PGDATA" -m fast -w stop >/dev/null
  fi
}

redis_running() {
  command -v redis-cli >/dev/null && redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG
}

start_redis() {
  if [ -n "${REDIS_URL:-}" ]; then log "REDIS_URL is set: not starting a local Redis"; return; fi
  command -v redis-server >/dev/null || apt_install redis-server
  # The Debian package starts its own service on 6379; ours is separate and that one is left alone.
  if redis_running; then log "Redis already running on 127.0.0.1:$REDIS_PORT"; return; fi
  mkdir -p "$REDIS_DIR"
  log "Starting Redis on 127.0.0.1:$REDIS_PORT"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --dir "$REDIS_DIR" \
    --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" --save '' --appendonly no
  for _ in $(seq 1 50); do redis_running && return; sleep 0.1; done
  die "Redis did not start (log: $REDIS_DIR/redis.log)"
}

stop_redis() {
  [ -n "${REDIS_URL:-}" ] && return
  if redis_running; then
    log "Stopping Redis"
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  fi
}

localstripe_running() {
  "$ROOT/.venv/bin/python" - "$LOCALSTRIPE_PORT" <<'PY' 2>/dev/null
import sys
import urllib.request

urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/js.stripe.com/v3/", timeout=2)
PY
}

# A zombie (exited, not yet reaped by this shell) counts as gone.
alive() {
  local state
  state="$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" || true
  if [ -n "$state" ]; then [ "$state" != Z ] && [ "$state" != X ]; else kill -0 "$1" 2>/dev/null; fi
}

# The pid in the pid file, if that process is still our launcher (guards against pid reuse).
localstripe_pid() {
  local file="$LOCALSTRIPE_DIR/localstripe.pid" pid
  [ -s "$file" ] || return 1
  pid="$(cat "$file")"
  alive "$pid" || return 1
  if [ -r "/proc/$pid/cmdline" ]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'scripts/localstripe.py' || return 1
  fi
  echo "$pid"
}

# Its state lives in its memory only (scripts/localstripe.py): a restart forgets every customer and
# payment it had, so a running one is reused.
start_localstripe() {
  if [ -n "${STRIPE_SECRET_KEY:-}" ]; then log "STRIPE_SECRET_KEY is set: not starting localstripe"; return; fi
  if localstripe_running; then log "localstripe already running on 127.0.0.1:$LOCALSTRIPE_PORT"; return; fi
  local log_file="$LOCALSTRIPE_DIR/localstripe.log" pid waited=0
  mkdir -p "$LOCALSTRIPE_DIR"
  log "Starting localstripe on 127.0.0.1:$LOCALSTRIPE_PORT (log: ${log_file#"$ROOT/"})"
  # Its own session: a Ctrl-C in the terminal of `make run` leaves it running, like PostgreSQL and Redis.
  # --verbose: the log shows each request and each webhook delivery's outcome.
  setsid "$ROOT/.venv/bin/python" "$ROOT/scripts/localstripe.py" --host 127.0.0.1 --port "$LOCALSTRIPE_PORT" \
    --verbose >>"$log_file" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$LOCALSTRIPE_DIR/localstripe.pid"
  until localstripe_running; do
    if ! alive "$pid"; then
      tail -n 20 "$log_file" >&2 || true
      rm -f "$LOCALSTRIPE_DIR/localstripe.pid"
      die "localstripe exited at start (log: $log_file)"
    fi
    if [ "$waited" -ge $((LOCALSTRIPE_START_TIMEOUT * 5)) ]; then
      tail -n 20 "$log_file" >&2 || true
      kill -TERM "$pid" 2>/dev/null || true
      rm -f "$LOCALSTRIPE_DIR/localstripe.pid"
      die "localstripe did not answer on 127.0.0.1:$LOCALSTRIPE_PORT within ${LOCALSTRIPE_START_TIMEOUT}s (log: $log_file)"
    fi
    sleep 0.2
    waited=$((waited + 1))
  done
}

stop_localstripe() {
  local pid
  if pid="$(localstripe_pid)"; then
    log "Stopping localstripe (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$LOCALSTRIPE_DIR/localstripe.pid"
}

case "${1:-start}" in
  start) start_postgres; start_redis ;;
  stop) stop_localstripe; stop_redis; stop_postgres ;;
  start-localstripe) start_localstripe ;;
  stop-localstripe) stop_localstripe ;;
  status)
    if pg_running; then echo "postgres: up (127.0.0.1:$PGPORT)"; else echo "postgres: down"; fi
    if redis_running; then echo "redis: up (127.0.0.1:$REDIS_PORT)"; else echo "redis: down"; fi
    if localstripe_running; then echo "localstripe: up (127.0.0.1:$LOCALSTRIPE_PORT)"; else echo "localstripe: down"; fi ;;
  *) die "usage: $0 start|stop|status|start-localstripe|stop-localstripe" ;;
esac
