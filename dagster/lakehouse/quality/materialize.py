"""Copy an environment's tables into a snapshot: one Parquet copy and view per table.

Runs in the Soda virtualenv. Each table is planned (full, or incremental after its
passing snapshot: incremental.py), streamed into Parquet in bounded memory with PII
masked and deletes applied (stream.py), and exposed to Soda as a DuckDB view
(snapshot.py). A table that cannot be read gets an error; the others are still copied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lakehouse.config import Settings
from lakehouse.quality.incremental import ScanPlan, plan_scan, scan_for
from lakehouse.quality.report import FULL
from lakehouse.quality.snapshot import Snapshot
from lakehouse.quality.stream import Copy, copy_scan, plan

if TYPE_CHECKING:
    from pyiceberg.table import Table


@dataclass
class TableState:
    """What the snapshot holds of one table (or why it holds nothing)."""

    row_count: int | None = None
    snapshot_id: str | None = None
    mode: str = FULL
    base_snapshot_id: str | None = None
    note: str | None = None
    error: str | None = None


def _copy(
    table: Table, name: str, masked: tuple[str, ...], scan_plan: ScanPlan, snap: Snapshot
) -> Copy:
    scan = scan_for(table, scan_plan)
    copied = copy_scan(scan, plan(scan), snap.parquet_path(name), masked)
    snap.add_view(name)
    return copied


def materialize(
    settings: Settings,
    tables: list[str],
    snap: Snapshot,
    *,
    incremental: bool = False,
    bases: dict[str, str] | None = None,
) -> dict[str, TableState]:
    """Copy each table into ``snap``; its state per table.

    ``bases`` are the passing snapshots incremental scans start after (by table).
    """
    from pyiceberg.exceptions import NoSuchTableError

    from lakehouse.catalog import open_catalog
    from lakehouse.tables import CONTRACTS

    bases = bases or {}
    try:
        catalog = open_catalog(settings)
    except Exception as exc:  # catalog unreachable: every table is an error
        return {t: TableState(error=f"catalog unavailable: {exc}") for t in tables}
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
            table = catalog.load_table((settings.namespace, name))
            scan_plan = plan_scan(table, bases.get(name), incremental)
            copied = _copy(table, name, masked, scan_plan, snap)
        except NoSuchTableError:
            state[name] = TableState(error=f"table {where} does not exist")
            continue
        except Exception as exc:  # incl. DeletesNotSupported: never judge deleted rows
            state[name] = TableState(error=f"cannot read {where}: {exc}")
            continue
        notes = [scan_plan.note] if scan_plan.note else []
        if copied.files_with_deletes:
            notes.append(
                f"positional deletes applied to {copied.files_with_deletes} of "
                f"{copied.data_files} data files"
            )
        state[name] = TableState(
            row_count=copied.rows,
            snapshot_id=_id(scan_plan.snapshot_id),
            mode=scan_plan.mode,
            base_snapshot_id=_id(scan_plan.base_snapshot_id),
            note="; ".join(notes) or None,
        )
    return state


def _id(snapshot_id: int | None) -> str | None:
    return None if snapshot_id is None else str(snapshot_id)


def complete(state: dict[str, TableState]) -> bool:
    """Every table copied: only then may a snapshot replace the previous one."""
    return bool(state) and not any(s.error for s in state.values())


def full_copies(state: dict[str, TableState]) -> bool:
    """Every table copied in full: only such a snapshot is published for `soda scan`."""
    return complete(state) and all(s.mode == FULL for s in state.values())
