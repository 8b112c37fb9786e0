#!/usr/bin/env bash
# Installs everything the tests need, then lints, type-checks and runs the suite
# (the desk on SQLite); then runs the desk's tests, the features' use-case tests
# (tests/features: their own tables) and the end-to-end bot tests
# (tests/e2e: each bot process on a database of its own) again on a throwaway
# PostgreSQL server (scripts/pg_test_server.sh) when this machine has one.
#   DESK_TEST_POSTGRES=auto  (default) the PostgreSQL run when the server binaries are
#                            here and no pytest arguments were given
#   DESK_TEST_POSTGRES=1     require it (CI, or CI=true): fail if it cannot run
#   DESK_TEST_POSTGRES=0     leave it out
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test,postgres
.venv/bin/ruff check desk features bot web tests bench
.venv/bin/pyright
env -u DESK_TEST_POSTGRES_URL .venv/bin/python -m pytest "$@"

pg="${DESK_TEST_POSTGRES:-auto}"
if [ "$pg" = auto ] && [ "${CI:-}" = true ]; then pg=1; fi
enable="apt-get install postgresql (or DESK_TEST_POSTGRES=0 to silence this)"
if [ "$pg" = 0 ]; then
  echo "PostgreSQL run skipped (DESK_TEST_POSTGRES=0)."
  exit 0
elif [ "$pg" = auto ] && [ "$#" -gt 0 ]; then
  echo "PostgreSQL run skipped (pytest arguments given); DESK_TEST_POSTGRES=1 runs it too."
  exit 0
elif [ "$pg" = auto ] && ! bash scripts/pg_test_server.sh available; then
  echo "PostgreSQL run skipped: no PostgreSQL server binaries (initdb, pg_ctl) here; to run the desk's tests on PostgreSQL too: $enable."
  exit 0
fi

pg_dir=""
stop_pg() { if [ -n "$pg_dir" ]; then bash scripts/pg_test_server.sh stop "$pg_dir"; fi; }
trap stop_pg EXIT
trap 'exit 130' INT TERM HUP
pg_env="$(bash scripts/pg_test_server.sh start)"
eval "$pg_env"
pg_dir="$DESK_TEST_POSTGRES_DIR"
echo "PostgreSQL run: tests/desk, tests/features and tests/e2e on ${DESK_TEST_POSTGRES_URL}"
.venv/bin/python -m pytest tests/desk tests/features \
  tests/e2e -m "not sqlite_only"
