"""How the gate reads each table: a DuckDB view over the table where it lies.

Runs in the Soda virtualenv. pyiceberg opens the catalog (SQL, or REST with Nessie's
prefix handshake) and pins the snapshot the report names. A full read whose snapshot
summary counts its records and no delete file needs no planning (reading every manifest
in Python was a tenth of a second per large table); otherwise pyiceberg plans the scan,
which refuses equality delete files and counts the data files with positional deletes.
DuckDB then reads the data files in place, no copy:

- a full scan is ``iceberg_scan(<metadata file>, snapshot_from_id => <snapshot>)``, which
  applies positional deletes;
- an incremental scan reads only the data files the appends since the passing snapshot
  added (incremental.py), with ``read_parquet`` mapping columns by Iceberg field id, so a
  renamed column is still found. No delete file can apply to them: every snapshot since
  is an append, and older deletes apply to older data only.

With a branch (``--branch``) every table is read exactly at that branch's head, as
lakehouse.wap pins it: the catalog at ``<branch>@<hash>`` for Nessie's catalog-level
branches, the snapshot id of the branch ref for Iceberg table refs.

For readers every PII column is replaced in the view (non-null values become
``lakehouse.tables.MASK``, nulls stay null), so Soda, and ``soda scan`` on the published
snapshot, never see a raw value. A table that cannot be read gets an error; the others
are still read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lakehouse.config import Settings
from lakehouse.quality.duck import add_storage_secret, identifier, sql_string
from lakehouse.quality.incremental import ScanPlan, plan_scan, scan_for
from lakehouse.quality.report import FULL, INCREMENTAL
from lakehouse.tables import MASK

if TYPE_CHECKING:
    from pyiceberg.schema import Schema
    from pyiceberg.table import BaseScan, FileScanTask, Table


class DeletesNotSupported(Exception):
    """The scan has delete files the gate does not apply (equality deletes)."""


@dataclass
class TableState:
    """What the snapshot's view of one table reads (or why it has none)."""

    row_count: int | None = None
    snapshot_id: str | None = None
    mode: str = FULL
    base_snapshot_id: str | None = None
    note: str | None = None
    error: str | None = None


def plan(scan: BaseScan) -> list[FileScanTask]:
    """The scan's file tasks; :class:`DeletesNotSupported` for equality deletes."""
    try:
        return list(scan.plan_files())
    except (ValueError, NotImplementedError) as exc:  # local or REST (server-side) planning
        if "equality delete" in str(exc).lower():
            raise DeletesNotSupported(EQUALITY_DELETES_REFUSED) from exc
        raise


EQUALITY_DELETES_REFUSED = (
    "the table has equality delete files, which the gate does not apply; it refuses to "
    "judge rows that may have been deleted: compact the table (rewrite data files) and "
    "run the gate again"
)


def _total(summary: Any, key: str) -> int | None:
    try:
        return int(summary[key])
    except (KeyError, TypeError, ValueError):
        return None


def records_without_deletes(table: Table, snapshot_id: int | None) -> int | None:
    """The snapshot's rows when its summary proves it has no delete file (writers keep
    ``total-*`` counts in every summary they can compute them for); None when only a
    plan can tell. :class:`DeletesNotSupported` when it counts equality deletes."""
    snapshot = table.snapshot_by_id(snapshot_id) if snapshot_id is not None else None
    if snapshot is None or snapshot.summary is None:
        return None
    summary = snapshot.summary
    if (_total(summary, "total-equality-deletes") or 0) > 0:
        raise DeletesNotSupported(EQUALITY_DELETES_REFUSED)
    if _total(summary, "total-delete-files") != 0:
        return None
    return _total(summary, "total-records")


def masked_select(columns: list[str], masked: tuple[str, ...]) -> str:
    """``*``, with every masked column that exists replaced by the mask (nulls stay null)."""
    replaced = [
        f"CASE WHEN {identifier(c)} IS NULL THEN NULL ELSE {sql_string(MASK)} END "
        f"AS {identifier(c)}"
        for c in columns
        if c in masked
    ]
    return f"* REPLACE ({', '.join(replaced)})" if replaced else "*"


def full_source(table: Table, snapshot_id: int | None) -> str:
    """DuckDB's Iceberg reader at ``snapshot_id`` (positional deletes applied)."""
    pinned = f", snapshot_from_id => {int(snapshot_id)}" if snapshot_id is not None else ""
    return f"iceberg_scan({sql_string(table.metadata_location)}{pinned})"


def appended_source(con: Any, table: Table, snapshot_id: int, tasks: list[FileScanTask]) -> str:
    """The data files of ``tasks`` read by field id as the table's schema at the snapshot."""
    described = con.execute(f"DESCRIBE SELECT * FROM {full_source(table, snapshot_id)}").fetchall()
    types = {row[0]: row[1] for row in described}
    fields = _schema(table, snapshot_id).fields
    mapping = ", ".join(
        f"{f.field_id}: {{name: {sql_string(f.name)}, type: {sql_string(types[f.name])}, "
        "default_value: NULL}"
        for f in fields
    )
    files = ", ".join(sql_string(task.file.file_path) for task in tasks)
    return f"read_parquet([{files}], schema => MAP {{{mapping}}})"


def _schema(table: Table, snapshot_id: int | None) -> Schema:
    """The table's schema at ``snapshot_id`` (the one DuckDB's reader uses)."""
    snapshot = table.snapshot_by_id(snapshot_id) if snapshot_id is not None else None
    if snapshot is not None and snapshot.schema_id is not None:
        return table.schemas().get(snapshot.schema_id, table.schema())
    return table.schema()


def _columns(table: Table, snapshot_id: int | None) -> list[str]:
    return [field.name for field in _schema(table, snapshot_id).fields]


def _view(
    con: Any,
    name: str,
    table: Table,
    scan_plan: ScanPlan,
    tasks: list[FileScanTask],
    masked: tuple[str, ...],
) -> None:
    if scan_plan.mode == INCREMENTAL and not tasks:
        source = f"(SELECT * FROM {full_source(table, scan_plan.snapshot_id)} LIMIT 0)"
    elif scan_plan.mode == INCREMENTAL:
        assert scan_plan.snapshot_id is not None
        source = appended_source(con, table, scan_plan.snapshot_id, tasks)
    else:
        source = full_source(table, scan_plan.snapshot_id)
    columns = _columns(table, scan_plan.snapshot_id)
    con.execute(
        f"CREATE OR REPLACE VIEW {identifier(name)} AS "
        f"SELECT {masked_select(columns, masked)} FROM {source}"
    )


def row_count(con: Any, name: str, tasks: list[FileScanTask]) -> int:
    """The rows of the view ``name`` (the report's row_count): the data files' record
    counts when no delete file applies to them (exact, no read), else counted by DuckDB."""
    if not any(task.delete_files for task in tasks):
        return sum(task.file.record_count for task in tasks)
    (rows,) = con.execute(f"SELECT count(*) FROM {identifier(name)}").fetchone()
    return int(rows)


def _id(snapshot_id: int | None) -> str | None:
    return None if snapshot_id is None else str(snapshot_id)


def read_tables(
    settings: Settings,
    tables: list[str],
    con: Any,
    *,
    incremental: bool = False,
    bases: dict[str, str] | None = None,
    branch: str | None = None,
) -> dict[str, TableState]:
    """A view of each table on ``con``; its state per table.

    ``bases`` are the passing snapshots incremental scans start after (by table);
    ``branch``: read every table at that branch's head (None: the published state).
    """
    from pyiceberg.exceptions import NoSuchTableError

    from lakehouse.catalog import open_catalog
    from lakehouse.tables import CONTRACTS

    bases = bases or {}
    pinned = None
    try:
        if branch is None:
            from lakehouse.quality.deferred_io import DEFERRED_IO

            catalog = open_catalog(settings, **DEFERRED_IO)
        else:
            from lakehouse.wap import pinned_catalog, resolve_branch

            pinned = resolve_branch(settings, branch)
            catalog = pinned_catalog(settings, pinned)
    except Exception as exc:  # catalog unreachable, no such branch: every table is an error
        what = "catalog unavailable" if branch is None else f"cannot pin branch {branch!r}"
        return {t: TableState(error=f"{what}: {exc}") for t in tables}
    try:
        add_storage_secret(con, settings)
    except Exception as exc:  # no credentials for the warehouse: every table is an error
        error = f"cannot get credentials for {settings.warehouse}: {exc}"
        return {t: TableState(error=error) for t in tables}
    state: dict[str, TableState] = {}
    for name in tables:
        where = f"{settings.namespace}.{name}"
        if name not in CONTRACTS:
            state[name] = TableState(
                error=f"{name} has no contract in lakehouse/tables.py: the gate cannot tell "
                "its PII columns, so it does not read it"
            )
            continue
        masked = CONTRACTS[name].pii_columns if settings.masks_pii else ()
        try:
            if pinned is None:
                table, head = catalog.load_table((settings.namespace, name)), None
            else:
                from lakehouse.wap import load_pinned_table

                table = load_pinned_table(settings, catalog, pinned, name)
                head = pinned.tables[name]
            scan_plan = plan_scan(table, bases.get(name), incremental, head)
            rows = None
            if scan_plan.mode == FULL:
                rows = records_without_deletes(table, scan_plan.snapshot_id)
            tasks = [] if rows is not None else plan(scan_for(table, scan_plan))
            _view(con, name, table, scan_plan, tasks, masked)
            if rows is None:
                rows = row_count(con, name, tasks)
        except NoSuchTableError:
            state[name] = TableState(error=f"table {where} does not exist")
            continue
        except Exception as exc:  # incl. DeletesNotSupported: never judge deleted rows
            state[name] = TableState(error=f"cannot read {where}: {exc}")
            continue
        notes = [scan_plan.note] if scan_plan.note else []
        with_deletes = sum(bool(task.delete_files) for task in tasks)
        if with_deletes:
            notes.append(f"positional deletes applied to {with_deletes} of {len(tasks)} data files")
        state[name] = TableState(
            row_count=rows,
            snapshot_id=_id(scan_plan.snapshot_id),
            mode=scan_plan.mode,
            base_snapshot_id=_id(scan_plan.base_snapshot_id),
            note="; ".join(notes) or None,
        )
    return state


def complete(state: dict[str, TableState]) -> bool:
    """Every table read: only then may a snapshot replace the previous one."""
    return bool(state) and not any(s.error for s in state.values())


def full_reads(state: dict[str, TableState]) -> bool:
    """Every table read in full: only such a snapshot is published for `soda scan`."""
    return complete(state) and all(s.mode == FULL for s in state.values())
