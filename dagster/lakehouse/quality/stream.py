"""Copy an Iceberg scan into a local Parquet file in bounded memory, PII masked.

Runs in both virtualenvs (pyiceberg and pyarrow only; no DuckDB). The gate points
DuckDB at the file this writes, so DuckDB never sees a row before it was masked and
never sees a row an Iceberg delete file removed:

- the scan is planned by pyiceberg (``plan_files``); planning refuses equality
  deletes, and each task carries its positional delete files, which pyiceberg's
  ``ArrowScan`` applies while it reads that task;
- tasks are read one data file at a time, with one file read ahead in a worker
  thread. pyiceberg's own ``to_arrow_batch_reader`` submits *every* file to its
  thread pool at once and keeps each file's batches until they are consumed, so
  with a slower consumer its memory grows with the table; here at most two data
  files are in memory, whatever the table's size;
- every batch is masked (``lakehouse.catalog.mask_pii``, the read path of every
  other reader) before it is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from lakehouse.catalog import mask_pii

if TYPE_CHECKING:
    from pyiceberg.table import BaseScan, FileScanTask

# At most this many rows per Parquet row group of the copy; each batch pyiceberg
# reads (at most one data file's rows) is written as it comes, never accumulated.
ROW_GROUP_ROWS = 128 * 1024
# Cheap to write and to read back (a scratch copy, read once per check query): LZ4
# costs a third less CPU to write than zstd level 1, for files about 1.7x bigger.
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "lz4",
    "use_dictionary": False,
    "write_statistics": False,
}


class DeletesNotSupported(Exception):
    """The scan has delete files the reader cannot apply (equality deletes)."""


@dataclass(frozen=True)
class Copy:
    """What :func:`copy_scan` wrote."""

    rows: int
    data_files: int
    files_with_deletes: int


def target_schema(scan: BaseScan, masked: tuple[str, ...]) -> pa.Schema:
    """The copy's schema: the scan's projection, masked columns as strings.

    Every field is nullable: the copy must hold what the table holds, so that a
    check (not the Parquet writer) reports a null in a required column.
    """
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    fields = []
    for field in schema_to_pyarrow(scan.projection(), include_field_ids=False):
        kind = pa.string() if field.name in masked else field.type
        fields.append(pa.field(field.name, kind, nullable=True))
    return pa.schema(fields)


def plan(scan: BaseScan) -> list[FileScanTask]:
    """The scan's file tasks; :class:`DeletesNotSupported` for equality deletes."""
    try:
        return list(scan.plan_files())
    except (ValueError, NotImplementedError) as exc:  # local or REST (server-side) planning
        if "equality delete" in str(exc).lower():
            raise DeletesNotSupported(
                "the table has equality delete files, which the gate's reader (pyiceberg) "
                "cannot apply; it refuses to judge rows that may have been deleted: "
                "compact the table (rewrite data files) and run the gate again"
            ) from exc
        raise


def _batches(scan: BaseScan, tasks: Iterable[FileScanTask]) -> Iterator[pa.RecordBatch]:
    """The scan's batches, one data file at a time, the next one read ahead."""
    from pyiceberg.io.pyarrow import ArrowScan

    reader = ArrowScan(
        scan.table_metadata, scan.io, scan.projection(), scan.row_filter, scan.case_sensitive
    )

    def read(task: FileScanTask) -> list[pa.RecordBatch]:
        # One task: its data file with its positional deletes applied.
        return list(reader.to_record_batches([task]))

    pending = iter(tasks)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gate-read") as pool:
        ahead: Future[list[pa.RecordBatch]] | None = None
        first = next(pending, None)
        if first is not None:
            ahead = pool.submit(read, first)
        while ahead is not None:
            batches = ahead.result()
            following = next(pending, None)
            ahead = pool.submit(read, following) if following is not None else None
            yield from batches
            del batches


def _conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """``batch`` in ``schema``: columns of another type cast, the others not copied."""
    columns = [
        column if column.type == field.type else column.cast(field.type)
        for column, field in zip(batch.select(schema.names).columns, schema, strict=True)
    ]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def masked_batches(
    batches: Iterable[pa.RecordBatch], schema: pa.Schema, masked: tuple[str, ...]
) -> Iterator[pa.RecordBatch]:
    """Each batch with the masked columns replaced, in ``schema``."""
    for batch in batches:
        if batch.num_rows == 0:
            continue
        if not masked:
            yield _conform(batch, schema)
            continue
        for part in mask_pii(pa.Table.from_batches([batch]), masked).to_batches():
            yield _conform(part, schema)


def copy_scan(
    scan: BaseScan, tasks: list[FileScanTask], path: Path, masked: tuple[str, ...]
) -> Copy:
    """Write the rows of ``tasks`` (planned from ``scan``) to the Parquet file ``path``."""
    schema = target_schema(scan, masked)
    rows = 0
    with pq.ParquetWriter(path, schema, **PARQUET_OPTIONS) as writer:
        for batch in masked_batches(_batches(scan, tasks), schema, masked):
            writer.write_batch(batch, ROW_GROUP_ROWS)
            rows += batch.num_rows
    return Copy(
        rows=rows,
        data_files=len(tasks),
        files_with_deletes=sum(bool(task.delete_files) for task in tasks),
    )
