from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pyarrow as pa
from pyiceberg.schema import Schema
from pyiceberg.types import NestedField

from lakehouse.catalog import open_catalog
from lakehouse.config import Settings
from lakehouse.quality.report import SCHEMA_PATH
from lakehouse.tables import EVENT_STREAM
from tests.conftest import lake_env, process_env, write_env_file

SCHEMA = json.loads(SCHEMA_PATH.read_text())
# A release as the pipeline passes it (pipelines/release formats).
RELEASE = {
    "commit": "3f5a0c9e1b7d2468ace013579bdf2468ace01357",
    "runtime_image": "registry.example/lakehouse@sha256:" + "a" * 64,
    "gate_image": "registry.example/lakehouse@sha256:" + "b" * 64,
}
RELEASE_ENV = {
    "LAKEHOUSE_RELEASE_COMMIT": RELEASE["commit"],
    "LAKEHOUSE_RUNTIME_IMAGE": RELEASE["runtime_image"],
    "LAKEHOUSE_GATE_IMAGE": RELEASE["gate_image"],
}


def lake_copy(lake: dict, root: Path, **overrides: str) -> dict[str, str]:
    """A lakehouse of its own with the shared lake's tables (its catalog copied).

    Tables rewritten in the copy get new files under ``root``; the shared lake's files
    are only read.
    """
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(lake["root"] / "catalog.db", root / "catalog.db")
    return lake_env(root, **overrides)


def run_gate(
    soda_python: str,
    env: dict[str, str] | None,
    out_dir: Path,
    *args: str,
    project_dir: Path | None = None,
    process: dict[str, str] | None = None,
    environment: str | None = None,
    entry: tuple[str, ...] = ("-m", "lakehouse.quality.gate"),
) -> tuple[int, dict, str]:
    """Run the gate CLI as the pipeline does; ``env`` becomes the project's env file.

    Everything it writes (env file, snapshot, report) stays under ``out_dir``.
    """
    project_dir = project_dir or out_dir / "project"
    if env is not None:
        write_env_file(project_dir, env)
    environment = environment or (env or {})["LAKEHOUSE_ENVIRONMENT"]
    out, md = out_dir / "gate.json", out_dir / "gate.md"
    proc = subprocess.run(
        [
            soda_python,
            *entry,
            "--env",
            environment,
            "--project-dir",
            str(project_dir),
            "--out",
            str(out),
            "--markdown",
            str(md),
            *args,
        ],
        cwd=out_dir,
        env=process_env(**(process or {})),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.exists(), proc.stderr
    report = json.loads(out.read_text())
    jsonschema.validate(report, SCHEMA)
    assert report["exit_code"] == proc.returncode, proc.stderr
    assert proc.returncode in (0, 1, 2, 3), proc.stderr
    return proc.returncode, report, md.read_text() if md.exists() else ""


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


def current_snapshots(env: dict[str, str]) -> dict[str, str]:
    catalog = open_catalog(Settings.from_env(env))
    return {
        name: str(catalog.load_table(("lakehouse", name)).current_snapshot().snapshot_id)
        for name in ("event_stream", "customer_dim", "customer_features")
    }


def test_gate_passes_on_materialized_assets(lake, soda_python, tmp_path):
    code, report, markdown = run_gate(soda_python, lake["env"], tmp_path)
    assert (code, report["outcome"]) == (0, "pass"), markdown
    assert report["schema_version"] == 2 and report["mode"] == "full"
    assert report["release"] == {"commit": None, "runtime_image": None, "gate_image": None}
    snapshots = {t["name"]: t["snapshot_id"] for t in report["tables"]}
    assert snapshots == current_snapshots(lake["env"])
    assert {(t["mode"], t["base_snapshot_id"]) for t in report["tables"]} == {("full", None)}
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


def test_gate_fails_on_broken_data_and_names_the_checks(lake, tmp_path, soda_python):
    env = lake_copy(lake, tmp_path / "lake")
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


def test_gate_warns_when_only_warn_thresholds_are_crossed(lake, tmp_path, soda_python):
    env = lake_copy(lake, tmp_path / "lake")

    def anonymize(rows):
        for i, r in enumerate(rows):
            if i % 5 < 2:  # 40% anonymous: above warn (30%), below fail (60%)
                r["user_email"] = None
        return rows

    replace_events(env, anonymize)
    code, report, _ = run_gate(soda_python, env, tmp_path)
    assert (code, report["outcome"]) == (2, "warn")
    assert checks_by_outcome(report, "warn") == {"event_stream: share of anonymous events"}


def test_gate_errors_on_missing_table(lake, tmp_path, soda_python):
    env = lake_copy(lake, tmp_path / "lake")
    open_catalog(Settings.from_env(env)).drop_table(("lakehouse", "customer_features"))
    code, report, markdown = run_gate(soda_python, env, tmp_path)
    assert (code, report["outcome"]) == (3, "error")
    by_name = {t["name"]: t for t in report["tables"]}
    assert by_name["customer_features"]["outcome"] == "error"
    assert "does not exist" in by_name["customer_features"]["error"]
    assert by_name["event_stream"]["outcome"] == "pass"
    assert "ERROR" in markdown


def test_gate_errors_on_bad_configuration(tmp_path, soda_python):
    env = lake_env(tmp_path / "lake", ICEBERG_CATALOG_URI="http://nessie:19120/api/v2")
    code, report, _ = run_gate(soda_python, env, tmp_path)
    assert (code, report["outcome"]) == (3, "error")
    assert "Iceberg REST" in report["errors"][0]
