"""`--incremental`: only the rows appended since a table's last passing snapshot."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pyarrow as pa
from dagster import DagsterInstance, materialize

from lakehouse.assets import event_stream
from lakehouse.catalog import open_catalog
from lakehouse.config import Settings
from lakehouse.resources import build_resources
from tests.conftest import EVENTS_PER_DAY
from tests.test_gate import (
    checks_by_outcome,
    current_snapshots,
    lake_copy,
    replace_events,
    run_gate,
)
from tests.test_gate_snapshot import rows_in

NEW_DAY = "2026-11-22"


def events_day(env: dict[str, str], day: str) -> None:
    """Materialize one day of events as the daily schedule does."""
    resources = build_resources(Settings.from_env(env))
    result = materialize(
        [event_stream], partition_key=day, resources=resources, instance=DagsterInstance.ephemeral()
    )
    assert result.success


def tables(report: dict) -> dict[str, dict]:
    return {t["name"]: t for t in report["tables"]}


def append_events(env: dict[str, str], rows: list[dict]) -> None:
    table = open_catalog(Settings.from_env(env)).load_table(("lakehouse", "event_stream"))
    table.append(pa.Table.from_pylist(rows, schema=table.schema().as_arrow()))


def test_incremental_reads_only_the_day_appended_since_the_last_pass(lake, tmp_path, soda_python):
    env = lake_copy(lake, tmp_path / "lake")
    _, first, _ = run_gate(soda_python, env, tmp_path)
    assert first["outcome"] == "pass"
    events_day(env, NEW_DAY)
    code, report, markdown = run_gate(soda_python, env, tmp_path, "--incremental")
    assert (code, report["outcome"], report["mode"]) == (0, "pass", "incremental"), markdown
    events = tables(report)["event_stream"]
    assert events["mode"] == "incremental"
    assert events["row_count"] == EVENTS_PER_DAY
    assert events["base_snapshot_id"] == tables(first)["event_stream"]["snapshot_id"]
    assert events["snapshot_id"] == current_snapshots(env)["event_stream"]
    unchanged = tables(report)["customer_dim"]
    assert (unchanged["mode"], unchanged["base_snapshot_id"]) == ("full", None)
    assert "full scan: nothing was appended since the passing snapshot" in markdown
    # `soda scan` keeps a full snapshot: the incremental gate did not replace it.
    snapshot = tmp_path / "project" / ".soda" / "zzfixture" / "lakehouse.duckdb"
    assert rows_in(soda_python, snapshot)["event_stream"] == 2 * EVENTS_PER_DAY


def test_incremental_judges_the_new_rows_until_they_pass(lake, tmp_path, soda_python):
    env = lake_copy(lake, tmp_path / "lake")
    replace_events(env, lambda rows: rows)  # nullable columns, so bad rows can be written
    _, first, _ = run_gate(soda_python, env, tmp_path)
    assert first["outcome"] == "pass"
    now = datetime.now(UTC)
    template = {"event_type": "login", "event_ts": now, "session_id": "s", "ingested_at": now}
    bad = [{**template, "event_id": f"bad-{i}", "customer_id": None} for i in range(3)]
    append_events(env, bad)
    code, report, _ = run_gate(soda_python, env, tmp_path, "--incremental")
    assert (code, report["outcome"]) == (1, "fail")
    events = tables(report)["event_stream"]
    assert (events["mode"], events["row_count"]) == ("incremental", 3)
    measured = {c["name"]: c["measured_value"] for c in events["checks"]}
    assert measured["customer_id is never null"] == 3
    # A failed slice is no base: the next incremental gate judges it again.
    good = [{**template, "event_id": f"good-{i}", "customer_id": "C00001"} for i in range(2)]
    append_events(env, good)
    code, report, _ = run_gate(soda_python, env, tmp_path, "--incremental")
    assert code == 1
    events = tables(report)["event_stream"]
    assert events["base_snapshot_id"] == tables(first)["event_stream"]["snapshot_id"]
    assert events["row_count"] == 5
    assert "event_stream: customer_id is never null" in checks_by_outcome(report, "fail")


def test_an_overwrite_since_the_last_pass_means_a_full_scan(lake, tmp_path, soda_python):
    env = lake_copy(lake, tmp_path / "lake")
    run_gate(soda_python, env, tmp_path)
    events_day(env, "2026-11-21")  # a re-run replaces the day: a delete, then an append
    code, report, markdown = run_gate(soda_python, env, tmp_path, "--incremental")
    assert (code, report["mode"]) == (0, "full")
    events = tables(report)["event_stream"]
    assert (events["mode"], events["row_count"]) == ("full", 2 * EVENTS_PER_DAY)
    assert "is 'delete', not 'append'" in markdown


def test_without_a_passing_record_incremental_scans_in_full(lake, tmp_path, soda_python):
    code, report, markdown = run_gate(soda_python, lake["env"], tmp_path, "--incremental")
    assert (code, report["mode"]) == (0, "full")
    assert {t["mode"] for t in report["tables"]} == {"full"}
    assert "full scan: no passing snapshot of this table is recorded" in markdown


def test_since_report_starts_after_the_snapshots_of_that_report(lake, tmp_path, soda_python):
    """The pipeline keeps reports, not the gate's record: it hands the last passing one."""
    env = lake_copy(lake, tmp_path / "lake")
    _, first, _ = run_gate(soda_python, env, tmp_path)
    kept = tmp_path / "kept-pass.json"
    kept.write_text(json.dumps(first))
    events_day(env, NEW_DAY)
    run_gate(soda_python, env, tmp_path, "--incremental")  # records the new day as passed
    events_day(env, "2026-11-23")
    code, report, _ = run_gate(soda_python, env, tmp_path, "--since-report", str(kept))
    assert (code, report["mode"]) == (0, "incremental")
    events = tables(report)["event_stream"]
    assert events["base_snapshot_id"] == tables(first)["event_stream"]["snapshot_id"]
    assert events["row_count"] == 2 * EVENTS_PER_DAY


def test_a_since_report_of_another_environment_is_an_error(lake, tmp_path, soda_python):
    _, first, _ = run_gate(soda_python, lake["env"], tmp_path)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**first, "environment": "prod"}))
    code, report, _ = run_gate(soda_python, lake["env"], tmp_path, "--since-report", str(other))
    assert (code, report["outcome"]) == (3, "error")
    assert "environment 'prod', not 'zzfixture'" in report["errors"][0]
