#!/usr/bin/env bash
# Installs everything the tests need, then lints, type-checks and runs the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
.venv/bin/ruff check desk bot tests bench
.venv/bin/pyright
.venv/bin/python -m pytest "$@"
