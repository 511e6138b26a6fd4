from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pyarrow as pa
import pytest
from pyiceberg.schema import Schema
from pyiceberg.types import NestedField

from lakehouse.catalog import open_catalog
from lakehouse.config import Settings
from lakehouse.quality.report import SCHEMA_PATH
from lakehouse.tables import EVENT_STREAM
from tests.conftest import PROJECT_DIR, lake_env, materialize_all

SCHEMA = json.loads(SCHEMA_PATH.read_text())


def run_gate(soda_python: str, env: dict[str, str], out_dir: Path) -> tuple[int, dict, str]:
    out, md = out_dir / "gate.json", out_dir / "gate.md"
    proc = subprocess.run(
        [
            soda_python,
            "-m",
            "lakehouse.quality.gate",
            "--env",
            env["LAKEHOUSE_ENVIRONMENT"],
            "--out",
            str(out),
            "--markdown",
            str(md),
            "--duckdb-path",
            str(out_dir / "s.duckdb"),
        ],
        cwd=PROJECT_DIR,
        env={**os.environ, **env, "PYTHONPATH": str(PROJECT_DIR)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.exists(), proc.stderr
    report = json.loads(out.read_text())
    jsonschema.validate(report, SCHEMA)
    assert report["exit_code"] == proc.returncode, proc.stderr
    return proc.returncode, report, md.read_text()


def checks_by_outcome(report: dict, outcome: str) -> set[str]:
    return {
        f"{t['name']}: {c['name']}"
        for t in report["tables"]
        for c in t["checks"]
        if c["outcome"] == outcome
    }


def _relaxed(schema: Schema) -> Schema:
    """The same columns, all optional: what a misbehaving producer could write."""
    return Schema(
        *[NestedField(f.field_id, f.name, f.field_type, required=False) for f in schema.fields]
    )


def replace_events(env: dict[str, str], mutate) -> None:
    settings = Settings.from_env(env)
    catalog = open_catalog(settings)
    ident = ("lakehouse", "event_stream")
    rows = catalog.load_table(ident).scan().to_arrow().to_pylist()
    catalog.drop_table(ident)
    schema = _relaxed(EVENT_STREAM.schema)
    table = catalog.create_table(ident, schema=schema)
    rows = mutate(rows)
    table.append(pa.Table.from_pylist(rows, schema=schema.as_arrow()))


def test_gate_passes_on_materialized_assets(lake, soda_python, tmp_path):
    code, report, markdown = run_gate(soda_python, lake["env"], tmp_path)
    assert (code, report["outcome"]) == (0, "pass"), markdown
    assert {t["name"] for t in report["tables"]} == {
        "event_stream",
        "customer_dim",
        "customer_features",
    }
    assert report["summary"]["fail"] == 0 and report["summary"]["checks"] >= 20
    assert report["tool_versions"]["soda-core"].startswith("3.5.")
    assert report["tool_versions"]["duckdb"].startswith("1.0.")
    rows = {t["name"]: t["row_count"] for t in report["tables"]}
    assert rows["event_stream"] == 300
    assert "**PASS**" in markdown


def test_gate_fails_on_broken_data_and_names_the_checks(tmp_path, soda_python):
    env = lake_env(tmp_path / "lake")
    materialize_all(env)
    stale = datetime.now(UTC) - timedelta(days=10)

    def corrupt(rows):
        for r in rows:
            r["ingested_at"] = stale
        rows[0]["customer_id"] = None
        rows[1]["customer_id"] = None
        rows.append(dict(rows[5]))  # duplicate event_id
        return rows

    replace_events(env, corrupt)
    code, report, markdown = run_gate(soda_python, env, tmp_path)
    assert (code, report["outcome"]) == (1, "fail"), markdown
    failed = checks_by_outcome(report, "fail")
    assert {
        "event_stream: customer_id is never null",
        "event_stream: event_id is unique",
        "event_stream: events ingested within the last day",
    } <= failed
    assert all(name.startswith("event_stream:") for name in failed)
    measured = {c["name"]: c["measured_value"] for t in report["tables"] for c in t["checks"]}
    assert measured["customer_id is never null"] == 2
    assert measured["event_id is unique"] == 1
    assert measured["events ingested within the last day"] >= 9 * 86_400
    assert "event_id is unique" in markdown


def test_gate_warns_when_only_warn_thresholds_are_crossed(tmp_path, soda_python):
    env = lake_env(tmp_path / "lake")
    materialize_all(env)

    def anonymize(rows):
        for i, r in enumerate(rows):
            if i % 5 < 2:  # 40% anonymous: above warn (30%), below fail (60%)
                r["user_email"] = None
        return rows

    replace_events(env, anonymize)
    code, report, _ = run_gate(soda_python, env, tmp_path)
    assert (code, report["outcome"]) == (2, "warn")
    assert checks_by_outcome(report, "warn") == {"event_stream: share of anonymous events"}


def test_gate_errors_on_missing_table(tmp_path, soda_python):
    env = lake_env(tmp_path / "lake")
    materialize_all(env)
    open_catalog(Settings.from_env(env)).drop_table(("lakehouse", "customer_features"))
    code, report, markdown = run_gate(soda_python, env, tmp_path)
    assert (code, report["outcome"]) == (3, "error")
    by_name = {t["name"]: t for t in report["tables"]}
    assert by_name["customer_features"]["outcome"] == "error"
    assert "does not exist" in by_name["customer_features"]["error"]
    assert by_name["event_stream"]["outcome"] == "pass"
    assert "ERROR" in markdown


def test_gate_errors_on_bad_configuration(tmp_path, soda_python):
    env = {
        "LAKEHOUSE_ENVIRONMENT": "test",
        "ICEBERG_CATALOG_URI": "http://nessie:19120/api/v2",
        "ICEBERG_WAREHOUSE": "s3://bucket/",
    }
    code, report, _ = run_gate(soda_python, env, tmp_path)
    assert (code, report["outcome"]) == (3, "error")
    assert "Iceberg REST" in report["errors"][0]


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_soda_cli_command_from_the_guide(lake, soda_python, tmp_path, environment):
    """`soda scan -d lakehouse -c lakehouse/quality/configuration.<env>.yaml <checks>`."""
    snapshot = PROJECT_DIR / ".soda" / environment / "lakehouse.duckdb"
    run_env = {
        **os.environ,
        **lake["env"],
        "PYTHONPATH": str(PROJECT_DIR),
        "LAKEHOUSE_ENVIRONMENT": environment,
        "HOME": str(tmp_path),
    }
    (tmp_path / ".soda").mkdir()
    (tmp_path / ".soda" / "config.yml").write_text("send_anonymous_usage_stats: false\n")
    materialized = subprocess.run(
        [soda_python, "-m", "lakehouse.quality.gate", "--env", environment, "--materialize-only"],
        cwd=PROJECT_DIR,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert materialized.returncode == 0, materialized.stderr
    try:
        soda = str(Path(soda_python).with_name("soda"))
        scan = subprocess.run(
            [
                soda,
                "scan",
                "-d",
                "lakehouse",
                "-c",
                f"lakehouse/quality/configuration.{environment}.yaml",
                "lakehouse/quality/soda_checks/event_stream_checks.yaml",
            ],
            cwd=PROJECT_DIR,
            env=run_env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert scan.returncode == 0, scan.stdout + scan.stderr
        assert "10/10 checks PASSED" in scan.stdout
    finally:
        snapshot.unlink(missing_ok=True)
