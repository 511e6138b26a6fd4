#!/usr/bin/env bash
# Regenerate the lock files from pyproject.toml / requirements-soda.in with uv
# (pinned), for Linux x86_64 + CPython 3.11, with hashes. Run after changing a pin.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
UV_VERSION=0.13.8
tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
python3 -m venv "$tools/venv"
"$tools/venv/bin/pip" install -q --disable-pip-version-check "uv==${UV_VERSION}"
compile() {
  "$tools/venv/bin/uv" pip compile "$@" --python-version 3.11 \
    --python-platform x86_64-manylinux_2_28 --generate-hashes --no-header \
    --annotation-style line -q
}
compile pyproject.toml -o requirements.lock
compile pyproject.toml --extra dev -o requirements-dev.lock
# soda-core-duckdb declares duckdb<1.1: requirements-soda.overrides lifts exactly that pin.
compile requirements-soda.in --override requirements-soda.overrides -o requirements-soda.lock
echo "locks updated: requirements.lock requirements-dev.lock requirements-soda.lock"
