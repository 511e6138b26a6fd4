"""The gate's read path: what DuckDB gets is masked for readers and has deleted rows removed.

The gate copies each table into Parquet (lakehouse.quality.stream) and DuckDB reads only
that copy, so these tests read the copy itself. Iceberg delete files are committed by
hand below: pyiceberg writes copy-on-write only, but other engines (Spark, Trino, Flink)
write positional and equality deletes into the same tables.
"""

from __future__ import annotations

import json
import os
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
from lakehouse.quality.stream import DeletesNotSupported, copy_scan, plan
from lakehouse.tables import CONTRACTS, MASK
from tests.test_gate import checks_by_outcome, lake_copy, replace_events, run_gate


class _DeleteManifestWriter(ManifestWriterV2):
    """pyiceberg only writes data manifests; delete files need a deletes manifest."""

    def content(self) -> ManifestContent:
        return ManifestContent.DELETES

    @property
    def _meta(self) -> dict[str, str]:
        return {**super()._meta, "content": "deletes"}


def commit_delete_file(table: Table, delete_file: DataFile) -> Table:
    """Commit a snapshot that adds ``delete_file`` to the table (as Spark's MoR would)."""
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
        summary=Summary(Operation.DELETE),
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


def delete_equal(table: Table, column: str, values: list[str]) -> Table:
    """Commit an equality delete file removing the rows whose ``column`` is in ``values``."""
    field_id = table.schema().find_field(column).field_id
    deletes = pa.table({column: values})
    delete_file = _delete_file(
        table, deletes, DataFileContent.EQUALITY_DELETES, equality_ids=[field_id]
    )
    return commit_delete_file(table, delete_file)


def events_with_a_duplicate(lake: dict, root: Path) -> tuple[dict[str, str], Table]:
    """A lake whose event_stream (one data file) ends with a copy of its 6th row."""

    def duplicate(rows):
        rows.append(dict(rows[5]))
        return rows

    env = lake_copy(lake, root)
    replace_events(env, duplicate)
    table = open_catalog(Settings.from_env(env)).load_table(("lakehouse", "event_stream"))
    return env, table


def copy_of(table: Table, tmp_path: Path, masked: tuple[str, ...] = ()) -> pa.Table:
    scan = table.scan()
    out = tmp_path / f"copy-{uuid.uuid4()}.parquet"
    copied = copy_scan(scan, plan(scan), out, masked)
    data = pq.read_table(out)
    assert copied.rows == data.num_rows
    return data


def test_the_copy_drops_rows_removed_by_positional_deletes(lake, tmp_path):
    _, table = events_with_a_duplicate(lake, tmp_path / "lake")
    (task,) = table.scan().plan_files()
    duplicate_at = task.file.record_count - 1
    before = copy_of(table, tmp_path)
    assert before.num_rows == 301
    table = delete_positions(table, task.file.file_path, [duplicate_at])
    after = copy_of(table, tmp_path)
    assert after.num_rows == 300
    ids = after.column("event_id").to_pylist()
    assert len(set(ids)) == len(ids)


def test_equality_deletes_are_refused_not_ignored(lake, tmp_path):
    _, table = events_with_a_duplicate(lake, tmp_path / "lake")
    first_id = table.scan().to_arrow().column("event_id")[0].as_py()
    table = delete_equal(table, "event_id", [first_id])
    with pytest.raises(DeletesNotSupported, match="equality delete files"):
        plan(table.scan())


def test_a_reader_copy_holds_no_pii(lake, tmp_path):
    """Every batch is masked before it is written: DuckDB never reads a raw value."""
    catalog = open_catalog(Settings.from_env(lake["env"]))
    for name, contract in CONTRACTS.items():
        table = catalog.load_table(("lakehouse", name))
        raw = table.scan().to_arrow()
        masked = copy_of(table, tmp_path, contract.pii_columns)
        assert masked.num_rows == raw.num_rows > 0
        for column in contract.pii_columns:
            values = masked.column(column)
            assert set(values.to_pylist()) - {None} == {MASK}, f"{name}.{column} leaked"
            assert values.null_count == raw.column(column).null_count
        others = [c for c in raw.column_names if c not in contract.pii_columns]
        assert masked.select(others).to_pylist() == raw.select(others).to_pylist()


def test_an_admin_copy_is_the_table(lake, tmp_path):
    table = open_catalog(Settings.from_env(lake["env"])).load_table(("lakehouse", "event_stream"))
    copied = copy_of(table, tmp_path)
    raw = table.scan().to_arrow()
    assert copied.to_pylist() == raw.to_pylist()
    assert any("@example.com" in (e or "") for e in copied.column("user_email").to_pylist())


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


def test_the_gate_refuses_a_table_with_equality_deletes(lake, tmp_path, soda_python):
    env, table = events_with_a_duplicate(lake, tmp_path / "lake")
    delete_equal(table, "event_id", [table.scan().to_arrow().column("event_id")[0].as_py()])
    code, report, _ = run_gate(soda_python, env, tmp_path)
    assert (code, report["outcome"]) == (3, "error")
    events = next(t for t in report["tables"] if t["name"] == "event_stream")
    assert "equality delete files" in events["error"] and events["checks"] == []
    assert {t["outcome"] for t in report["tables"] if t["name"] != "event_stream"} == {"pass"}


def pii_in_snapshot(soda_python: str, snapshot: Path) -> dict[str, set]:
    """The distinct values of every PII column, read from the DuckDB snapshot."""
    queries = {
        f"{name}.{column}": f'SELECT DISTINCT "{column}" FROM "{name}"'
        for name, contract in CONTRACTS.items()
        for column in contract.pii_columns
    }
    probe = (
        "import duckdb, json, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
        "q = json.loads(sys.argv[2]); "
        "print(json.dumps({k: [r[0] for r in c.execute(v).fetchall()] for k, v in q.items()}))"
    )
    proc = subprocess.run(
        [soda_python, "-c", probe, str(snapshot), json.dumps(queries)],
        capture_output=True,
        text=True,
        check=True,
    )
    return {column: set(values) for column, values in json.loads(proc.stdout).items()}


def test_a_reader_gate_snapshot_serves_only_masked_pii(lake, tmp_path, soda_python):
    env = {**lake["env"], "LAKEHOUSE_ACCESS_LEVEL": "reader"}
    code, report, _ = run_gate(soda_python, env, tmp_path)
    assert (code, report["outcome"], report["access_level"]) == (0, "pass", "reader")
    snapshot = tmp_path / "project" / ".soda" / "zzfixture" / "lakehouse.duckdb"
    for column, values in pii_in_snapshot(soda_python, snapshot).items():
        assert values - {None} == {MASK}, f"{column} leaked to the snapshot"
