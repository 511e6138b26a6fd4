#!/usr/bin/env bash
# Install the pinned Python environments and run lint + tests for dagster/.
#
#   .venv       main set (Dagster, pyiceberg, DuckDB 2.x, pytest, ruff) from requirements-dev.lock
#   .venv-soda  Soda Core v3 set (soda-core-duckdb 3.5.x pins duckdb<1.1) from requirements-soda.lock
#
# Works from any directory; reinstalls a venv only when its lock file (or the Python
# version) changed. Needs CPython 3.11 as `python3` (override with PYTHON=...) and PyPI.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
PYTHON="${PYTHON:-python3}"

if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)'; then
  echo "scripts/test.sh: $PYTHON is $("$PYTHON" -V 2>&1); CPython 3.11 is required" >&2
  exit 1
fi

# ensure_venv DIR LOCKFILE: (re)create DIR from LOCKFILE unless its stamp matches.
ensure_venv() {
  local dir="$1" lock="$2" stamp want
  stamp="$dir/.lock-stamp"
  want="$(cat "$lock" scripts/test.sh | sha256sum | cut -d' ' -f1) $("$PYTHON" -V 2>&1)"
  if [[ -x "$dir/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "== $dir up to date with $lock"
    return
  fi
  echo "== installing $lock into $dir"
  rm -rf "$dir"
  "$PYTHON" -m venv "$dir"
  "$dir/bin/python" -m pip install --disable-pip-version-check --no-input -q \
    --no-deps --require-hashes -r "$lock"
  "$dir/bin/python" -m pip check
  # The project itself is used from the source tree (like an editable install).
  local site
  site="$("$dir/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  echo "$here" > "$site/lakehouse-src.pth"
  echo "$want" > "$stamp"
}

ensure_venv .venv requirements-dev.lock
ensure_venv .venv-soda requirements-soda.lock
# Apache Iceberg's REST catalog server for the REST tests (java + mvn; see the script).
scripts/iceberg-rest.sh

echo "== ruff check"
.venv/bin/ruff check .
echo "== ruff format --check"
.venv/bin/ruff format --check .

echo "== pytest"
export LAKEHOUSE_SODA_PYTHON="$here/.venv-soda/bin/python"
export LAKEHOUSE_REQUIRE_SODA=1
# The servers the tests start (moto, the REST catalog's java) are recorded here; none may
# outlive pytest.
pids="$(mktemp)"
trap 'rm -f "$pids"' EXIT
export LAKEHOUSE_TEST_SERVER_PIDS="$pids"
set +e
.venv/bin/python -m pytest -p no:cacheprovider "$@"
status=$?
set -e
while read -r pid comm; do
  if [[ "$(ps -p "$pid" -o comm= 2>/dev/null)" == "$comm" ]]; then
    echo "scripts/test.sh: $comm (pid $pid), started by the tests, is still running; stopping it" >&2
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
    status=1
  fi
done < "$pids"
if [[ $status -eq 5 ]]; then
  echo "scripts/test.sh: pytest collected no tests" >&2
  exit 1
fi
exit $status
