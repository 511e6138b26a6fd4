"""The gate's read path: DuckDB reads each table where it lies, positional deletes applied,
equality deletes refused, PII masked for readers in every view Soda (or `soda scan`) reads.

Iceberg delete files are committed by hand below: pyiceberg writes copy-on-write only,
but other engines (Spark, Trino, Flink) write positional and equality deletes into the
same tables. What Soda sees is observed with checks of its own (``masking_checks``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyiceberg.manifest import (
    DataFile,
    DataFileContent,
    FileFormat,
    ManifestContent,
    ManifestEntry,
    ManifestEntryStatus,
    ManifestWriterV2,
    write_manifest_list,
)
from pyiceberg.table import Table
from pyiceberg.table.refs import SnapshotRefType
from pyiceberg.table.snapshots import Operation, Snapshot, Summary
from pyiceberg.table.update import AddSnapshotUpdate, AssertRefSnapshotId, SetSnapshotRefUpdate
from pyiceberg.typedef import Record

from lakehouse.catalog import open_catalog
from lakehouse.config import Settings
from lakehouse.quality.reading import DeletesNotSupported, plan, records_without_deletes
from lakehouse.quality.soda_scan import CHECKS_DIR
from lakehouse.tables import CONTRACTS, MASK
from tests.conftest import PROJECT_DIR, process_env
from tests.test_gate import checks_by_outcome, lake_copy, replace_events, run_gate


class _DeleteManifestWriter(ManifestWriterV2):
    """pyiceberg only writes data manifests; delete files need a deletes manifest."""

    def content(self) -> ManifestContent:
        return ManifestContent.DELETES

    @property
    def _meta(self) -> dict[str, str]:
        return {**super()._meta, "content": "deletes"}


def commit_delete_file(
    table: Table, delete_file: DataFile, totals: dict[str, str] | None = None
) -> Table:
    """Commit a snapshot that adds ``delete_file`` to the table (as Spark's MoR would);
    its summary has only the operation, or ``totals`` too (the counts Spark keeps)."""
    meta = table.metadata
    parent = meta.current_snapshot()
    assert parent is not None
    snapshot_id = uuid.uuid4().int >> 65
    sequence = meta.next_sequence_number()
    prefix = f"{table.location()}/metadata/test-deletes-{uuid.uuid4()}"
    output = table.io.new_output(prefix + "-m0.avro")
    with _DeleteManifestWriter(meta.spec(), meta.schema(), output, snapshot_id, "deflate") as w:
        w.add_entry(
            ManifestEntry.from_args(
                status=ManifestEntryStatus.ADDED, snapshot_id=snapshot_id, data_file=delete_file
            )
        )
    manifests = [*parent.manifests(table.io), w.to_manifest_file()]
    list_output = table.io.new_output(prefix + "-snap.avro")
    with write_manifest_list(
        2, list_output, snapshot_id, parent.snapshot_id, sequence, "deflate"
    ) as writer:
        writer.add_manifests(manifests)
    snapshot = Snapshot(
        snapshot_id=snapshot_id,
        parent_snapshot_id=parent.snapshot_id,
        manifest_list=prefix + "-snap.avro",
        sequence_number=sequence,
        summary=Summary(Operation.DELETE, **(totals or {})),
        schema_id=meta.current_schema_id,
        timestamp_ms=int(time.time() * 1000),
    )
    table.catalog.commit_table(
        table,
        (AssertRefSnapshotId(snapshot_id=parent.snapshot_id, ref="main"),),
        (
            AddSnapshotUpdate(snapshot=snapshot),
            SetSnapshotRefUpdate(
                snapshot_id=snapshot_id,
                parent_snapshot_id=parent.snapshot_id,
                ref_name="main",
                type=SnapshotRefType.BRANCH,
            ),
        ),
    )
    return table.catalog.load_table(table.name())


def _delete_file(table: Table, data: pa.Table, content: DataFileContent, **extra) -> DataFile:
    path = f"{table.location().removeprefix('file://')}/data/test-{uuid.uuid4()}.parquet"
    pq.write_table(data, path)
    delete_file = DataFile.from_args(
        content=content,
        file_path="file://" + path,
        file_format=FileFormat.PARQUET,
        partition=Record(),
        record_count=data.num_rows,
        file_size_in_bytes=os.path.getsize(path),
        **extra,
    )
    delete_file.spec_id = 0
    return delete_file


def delete_positions(table: Table, data_file_path: str, positions: list[int]) -> Table:
    """Commit a positional delete file removing ``positions`` of one data file."""
    deletes = pa.table(
        {"file_path": [data_file_path] * len(positions), "pos": pa.array(positions, pa.int64())}
    )
    return commit_delete_file(table, _delete_file(table, deletes, DataFileContent.POSITION_DELETES))


def delete_equal(
    table: Table, column: str, values: list[str], *, with_totals: bool = False
) -> Table:
    """Commit an equality delete file removing the rows whose ``column`` is in ``values``
    (``with_totals``: its snapshot summary counts them, as Spark's does)."""
    field_id = table.schema().find_field(column).field_id
    deletes = pa.table({column: values})
    delete_file = _delete_file(
        table, deletes, DataFileContent.EQUALITY_DELETES, equality_ids=[field_id]
    )
    summary = table.current_snapshot().summary
    totals = {
        "total-records": summary["total-records"],
        "total-delete-files": "1",
        "total-equality-deletes": str(len(values)),
        "total-position-deletes": "0",
    }
    return commit_delete_file(table, delete_file, totals if with_totals else None)


def events_with_a_duplicate(lake: dict, root: Path) -> tuple[dict[str, str], Table]:
    """A lake whose event_stream (one data file) ends with a copy of its 6th row."""

    def duplicate(rows):
        rows.append(dict(rows[5]))
        return rows

    env = lake_copy(lake, root)
    replace_events(env, duplicate)
    table = open_catalog(Settings.from_env(env)).load_table(("lakehouse", "event_stream"))
    return env, table


# The gate with the checks files of another directory (argv[1]), as test_gate_samples.
WITH_CHECKS_DIR = (
    "import sys; from pathlib import Path; from lakehouse.quality import gate, soda_scan; "
    "files = soda_scan.check_files(Path(sys.argv.pop(1))); "
    "gate.check_files = lambda: files; sys.exit(gate.main())"
)


def masking_checks(tmp_path: Path) -> tuple[str, ...]:
    """The gate's entry with one more check per table: how many PII values Soda sees
    that are neither null nor the mask (0 for a reader)."""
    checks = tmp_path / "soda_checks"
    shutil.copytree(CHECKS_DIR, checks)
    for name, contract in CONTRACTS.items():
        if not contract.pii_columns:
            continue
        unmasked = " OR ".join(
            f"({c} IS NOT NULL AND {c} <> '{MASK}')" for c in contract.pii_columns
        )
        path = checks / f"{name}_checks.yaml"
        path.write_text(
            path.read_text()
            + "  - raw_pii_values = 0:\n"
            + "      name: no raw PII value reaches the checks\n"
            + f"      raw_pii_values query: SELECT count(*) FROM {name} WHERE {unmasked}\n"
        )
    return ("-c", WITH_CHECKS_DIR, str(checks))


def raw_pii_seen(report: dict) -> dict[str, object]:
    """The measured value of the masking check per table that has PII."""
    return {
        t["name"]: c["measured_value"]
        for t in report["tables"]
        for c in t["checks"]
        if c["name"] == "no raw PII value reaches the checks"
    }


def test_a_summary_that_counts_no_delete_file_gives_the_rows_without_a_plan(lake, tmp_path):
    _, table = events_with_a_duplicate(lake, tmp_path / "lake")
    current = table.current_snapshot().snapshot_id
    assert records_without_deletes(table, current) == table.scan().to_arrow().num_rows == 301
    # A summary without the counts (hand-committed, as some writers do): only a plan tells.
    (task,) = table.scan().plan_files()
    table = delete_positions(table, task.file.file_path, [0])
    assert records_without_deletes(table, table.current_snapshot().snapshot_id) is None


@pytest.mark.parametrize("with_totals", [False, True], ids=["planned", "from-summary"])
def test_equality_deletes_are_refused_whether_planned_or_counted(lake, tmp_path, with_totals):
    _, table = events_with_a_duplicate(lake, tmp_path / "lake")
    first_id = table.scan().to_arrow().column("event_id")[0].as_py()
    table = delete_equal(table, "event_id", [first_id], with_totals=with_totals)
    with pytest.raises(DeletesNotSupported, match="equality delete files"):
        if records_without_deletes(table, table.current_snapshot().snapshot_id) is None:
            plan(table.scan())


def test_the_gate_judges_the_table_without_its_deleted_rows(lake, tmp_path, soda_python):
    env, table = events_with_a_duplicate(lake, tmp_path / "lake")
    code, report, _ = run_gate(soda_python, env, tmp_path / "before")
    assert (code, report["outcome"]) == (1, "fail")
    assert "event_stream: event_id is unique" in checks_by_outcome(report, "fail")
    (task,) = table.scan().plan_files()
    delete_positions(table, task.file.file_path, [task.file.record_count - 1])
    code, report, markdown = run_gate(soda_python, env, tmp_path / "after")
    assert (code, report["outcome"]) == (0, "pass"), markdown
    assert {t["name"]: t["row_count"] for t in report["tables"]}["event_stream"] == 300
    assert "positional deletes applied to 1 of 1 data files" in markdown


@pytest.mark.parametrize("with_totals", [False, True], ids=["planned", "from-summary"])
def test_the_gate_refuses_a_table_with_equality_deletes(lake, tmp_path, soda_python, with_totals):
    env, table = events_with_a_duplicate(lake, tmp_path / "lake")
    first_id = table.scan().to_arrow().column("event_id")[0].as_py()
    delete_equal(table, "event_id", [first_id], with_totals=with_totals)
    code, report, _ = run_gate(soda_python, env, tmp_path)
    assert (code, report["outcome"]) == (3, "error")
    events = next(t for t in report["tables"] if t["name"] == "event_stream")
    assert "equality delete files" in events["error"] and events["checks"] == []
    assert {t["outcome"] for t in report["tables"] if t["name"] != "event_stream"} == {"pass"}


# Opens the published snapshot exactly as `soda scan -c configuration.yaml` does: the
# file rendered by Soda's template engine with this process's variables, its path and
# `configuration` handed to duckdb.connect; then runs argv[1] (JSON: name -> SQL).
AS_SODA_SCAN = r"""
import json, sys, duckdb, yaml
from soda.common.jinja import Jinja
text = open(sys.argv[2], encoding="utf-8").read()
source = yaml.safe_load(Jinja.resolve(text))["data_source lakehouse"]
con = duckdb.connect(source["path"], read_only=True, config=source["configuration"])
queries = json.loads(sys.argv[1])
print(json.dumps({k: [list(r) for r in con.execute(q).fetchall()] for k, q in queries.items()}))
"""


def query_snapshot(
    soda_python: str, snapshot: Path, queries: dict[str, str], env: dict[str, str] | None = None
) -> dict[str, list[list]]:
    """Run ``queries`` on the snapshot at ``<project>/.soda/<env>/lakehouse.duckdb`` from
    the project directory, as `soda scan` would with ``env`` exported."""
    configuration = PROJECT_DIR / "lakehouse" / "quality" / "configuration.yaml"
    variables = {**(env or {}), "LAKEHOUSE_ENVIRONMENT": snapshot.parent.name}
    proc = subprocess.run(
        [soda_python, "-c", AS_SODA_SCAN, json.dumps(queries), str(configuration)],
        cwd=snapshot.parents[2],
        env=process_env(**variables),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def pii_in_snapshot(
    soda_python: str, snapshot: Path, env: dict[str, str] | None = None
) -> dict[str, set]:
    """The distinct values of every PII column, read from the published snapshot."""
    queries = {
        f"{name}.{column}": f'SELECT DISTINCT "{column}" FROM "{name}"'
        for name, contract in CONTRACTS.items()
        for column in contract.pii_columns
    }
    found = query_snapshot(soda_python, snapshot, queries, env)
    return {column: {row[0] for row in rows} for column, rows in found.items()}


def test_a_reader_gate_sees_and_publishes_only_masked_pii(lake, tmp_path, soda_python):
    env = {**lake["env"], "LAKEHOUSE_ACCESS_LEVEL": "reader"}
    code, report, markdown = run_gate(soda_python, env, tmp_path, entry=masking_checks(tmp_path))
    assert (code, report["outcome"], report["access_level"]) == (0, "pass", "reader"), markdown
    assert raw_pii_seen(report) == {"event_stream": 0, "customer_dim": 0}
    snapshot = tmp_path / "project" / ".soda" / "zzfixture" / "lakehouse.duckdb"
    for column, values in pii_in_snapshot(soda_python, snapshot).items():
        assert values - {None} == {MASK}, f"{column} leaked to the snapshot"


def test_an_admin_gate_sees_the_raw_values(lake, tmp_path, soda_python):
    code, report, _ = run_gate(soda_python, lake["env"], tmp_path, entry=masking_checks(tmp_path))
    assert code == 1
    seen = raw_pii_seen(report)
    assert seen["event_stream"] > 0 and seen["customer_dim"] > 0
    snapshot = tmp_path / "project" / ".soda" / "zzfixture" / "lakehouse.duckdb"
    emails = pii_in_snapshot(soda_python, snapshot)["event_stream.user_email"]
    assert any("@example.com" in (e or "") for e in emails)
