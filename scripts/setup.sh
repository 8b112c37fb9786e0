#!/usr/bin/env bash
# Creates .venv and installs the project (editable) with the extras named in $1
# (default: none). Python 3.11, 3.12 or 3.13: 3.11 (what CI tests) when it is
# installed, else the newest supported one found; PYTHON=/path/to/python picks
# one. Safe to run again: pip skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
supported() { "$1" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' 2>/dev/null; }
PY="${PYTHON:-}"
if [ -n "$PY" ]; then
  supported "$PY" || { echo "PYTHON=$PY is not Python 3.11, 3.12 or 3.13" >&2; exit 1; }
else
  for c in python3.11 python3.13 python3.12 python3; do
    if command -v "$c" >/dev/null 2>&1 && supported "$c"; then PY="$c"; break; fi
  done
fi
if [ -z "$PY" ]; then
  found="$(python3 --version 2>/dev/null || echo "no python3")"
  echo "Python 3.11, 3.12 or 3.13 is required ($found on PATH); install one, or set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
if [ -x .venv/bin/python ] && ! supported .venv/bin/python; then
  echo ".venv was made with $(.venv/bin/python --version 2>&1), not 3.11-3.13: remove .venv and run again" >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
spec="."
[ -n "$extras" ] && spec=".[${extras}]"
.venv/bin/python -m pip install -q --disable-pip-version-check -e "$spec"
