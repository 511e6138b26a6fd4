"""The smoke run and the quality gate (full, then incremental) over the REST catalog.

Both run as the pipeline runs them, in their own processes with the environment's
variables (tests/rest_catalog.py): the smoke run in the main virtualenv, the gate in
the Soda one.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from lakehouse.config import Settings
from lakehouse.resources import build_resources
from lakehouse.tables import CONTRACTS, MASK
from tests.conftest import EVENTS_PER_DAY, PROJECT_DIR, materialize_all, process_env
from tests.rest_catalog import REST_ENVIRONMENT
from tests.servers import CREDENTIALS
from tests.test_gate import run_gate, soda_scan_cli
from tests.test_gate_incremental import NEW_DAY, events_day, tables
from tests.test_gate_reading import pii_in_snapshot

pytestmark = pytest.mark.rest


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)


def test_the_smoke_run_passes_over_rest(rest_catalog):
    env = rest_catalog.env("zzsmoke")
    done = subprocess.run(
        [sys.executable, "-m", "lakehouse.smoke", "--partition", "2026-11-30"],
        cwd=PROJECT_DIR,
        env=process_env(**env, **CREDENTIALS),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"smoke {REST_ENVIRONMENT}: pass" in done.stdout
    assert set(rest_catalog.server_tables("zzsmoke")) == set(CONTRACTS)
    events = build_resources(Settings.from_env(env))["iceberg"].read("event_stream")
    assert events.num_rows == int(env["LAKEHOUSE_EVENTS_PER_DAY"])


def test_the_gate_full_then_incremental_over_rest(rest_catalog, tmp_path, soda_python):
    env = rest_catalog.env("zzgate", LAKEHOUSE_ACCESS_LEVEL="reader")
    assert int(env["LAKEHOUSE_EVENTS_PER_DAY"]) == EVENTS_PER_DAY
    materialize_all(env)
    code, first, markdown = run_gate(soda_python, env, tmp_path, process=CREDENTIALS)
    assert (code, first["outcome"], first["mode"]) == (0, "pass", "full"), markdown
    assert first["catalog"]["type"] == "rest"
    assert first["catalog"]["uri"] == rest_catalog.front.uri("main")
    snapshot = tmp_path / "project" / ".soda" / env["LAKEHOUSE_ENVIRONMENT"] / "lakehouse.duckdb"
    exported = {**env, **CREDENTIALS}
    for column, values in pii_in_snapshot(soda_python, snapshot, exported).items():
        assert values - {None} == {MASK}, f"{column} leaked to the snapshot"
    scan = soda_scan_cli(soda_python, tmp_path / "project", exported)
    assert "10/10 checks PASSED" in scan.stdout, scan.stdout + scan.stderr
    events_day(env, NEW_DAY)
    code, report, markdown = run_gate(
        soda_python, env, tmp_path, "--incremental", process=CREDENTIALS
    )
    assert (code, report["outcome"], report["mode"]) == (0, "pass", "incremental"), markdown
    events = tables(report)["event_stream"]
    assert (events["mode"], events["row_count"]) == ("incremental", EVENTS_PER_DAY)
    assert events["base_snapshot_id"] == tables(first)["event_stream"]["snapshot_id"]
