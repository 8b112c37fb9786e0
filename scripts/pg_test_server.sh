#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the desk's tests (scripts/test.sh uses it).
#
#   bash scripts/pg_test_server.sh available   # exit 0 if the server binaries are here
#   eval "$(bash scripts/pg_test_server.sh start)"
#   DESK_TEST_POSTGRES_URL=... pytest tests/desk -m "not sqlite_only"
#   bash scripts/pg_test_server.sh stop        # stops it and deletes its data
#
# `start` initialises a cluster in a new temporary folder (trust auth, listening
# on 127.0.0.1 on a free port, fsync off: nothing in it needs to survive) and
# prints shell `export` lines for DESK_TEST_POSTGRES_URL and
# DESK_TEST_POSTGRES_DIR; `stop [DIR]` (DIR defaults to $DESK_TEST_POSTGRES_DIR)
# stops it and removes the folder. Run as root, the server runs as the
# `postgres` user (root cannot run postgres). Needs initdb/pg_ctl/postgres on
# PATH or under /usr/lib/postgresql/<version>/bin (Debian: apt-get install postgresql).
set -euo pipefail
cd "$(dirname "$0")/.."

find_bindir() {
  local initdb
  if initdb="$(command -v initdb 2>/dev/null)"; then
    initdb="$(readlink -f "$initdb")"
    dirname "$initdb"
    return 0
  fi
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] || return 1
  echo "$dir"
}

free_port() {
  local py
  for py in "${PYTHON:-}" .venv/bin/python python3 python; do
    if [ -n "$py" ] && command -v "$py" >/dev/null 2>&1; then
      "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
      return 0
    fi
  done
  echo $((20000 + RANDOM % 20000))
}

# run_as USER CMD...: as USER when we are root, else as ourselves.
run_as() {
  local user="$1"
  shift
  if [ -n "$user" ]; then
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

server_user() {
  if [ "$(id -u)" = 0 ]; then
    id -u postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    echo postgres
  fi
}

start() {
  local bindir user dir port attempt
  bindir="$(find_bindir)" || {
    echo "pg_test_server: no PostgreSQL server binaries (initdb, pg_ctl); install them, e.g. apt-get install postgresql" >&2
    exit 1
  }
  user="$(server_user)"
  local base="${TMPDIR:-/tmp}"
  [ -z "$user" ] || base=/tmp # the postgres user must be able to reach it
  dir="$(mktemp -d "$base/desk-pg.XXXXXX")"
  [ -z "$user" ] || chown "$user" "$dir"
  if ! run_as "$user" "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale \
      --no-sync >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    rm -rf "$dir"
    exit 1
  fi
  for attempt in 1 2 3; do
    port="$(free_port)"
    if run_as "$user" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -s \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >&2; then
      printf 'export DESK_TEST_POSTGRES_DIR=%q\n' "$dir"
      printf 'export DESK_TEST_POSTGRES_URL=%q\n' "postgresql+asyncpg://postgres@127.0.0.1:$port/postgres"
      return 0
    fi
    echo "pg_test_server: start on port $port failed (attempt $attempt)" >&2
  done
  tail -n 30 "$dir/server.log" >&2 || true
  rm -rf "$dir"
  exit 1
}

stop() {
  local dir="${1:-${DESK_TEST_POSTGRES_DIR:-}}" bindir user
  [ -n "$dir" ] || { echo "pg_test_server: stop needs the cluster folder (or DESK_TEST_POSTGRES_DIR)" >&2; exit 1; }
  [ -d "$dir" ] || return 0
  if [ -f "$dir/data/postmaster.pid" ] && bindir="$(find_bindir)"; then
    user="$(server_user)"
    run_as "$user" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -s stop >&2 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  available) find_bindir >/dev/null ;;
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 available|start|stop [DIR]" >&2; exit 2 ;;
esac
