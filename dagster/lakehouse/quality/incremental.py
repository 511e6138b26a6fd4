"""Which rows a gate reads per table: all of them, or only what was appended since the
table's last passing snapshot.

Standard library only (it is handed pyiceberg tables). The passing snapshots come from
the gate's own record (``<project-dir>/.soda/<env>/gate-passing.json``, updated after
every report for the tables whose outcome was ``pass``) or from a passing report the
caller hands over (``--since-report``, e.g. the last report the pipeline kept). An incremental scan
is only used when every snapshot after the base is an ``append``; anything else
(overwrite, delete, replace, an expired or foreign base) is a full scan, with the
reason in the markdown report.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakehouse.quality.report import FULL, INCREMENTAL, SCHEMA_VERSION

if TYPE_CHECKING:
    from pyiceberg.table import BaseScan, Table

STATE_FILE = "gate-passing.json"
STATE_VERSION = 1
_SNAPSHOT_ID = re.compile(r"-?[0-9]{1,20}")


class BaseError(Exception):
    """A passing report handed to the gate cannot be used (exit 3)."""


@dataclass(frozen=True)
class ScanPlan:
    """How one table is read; ``note`` says why an incremental scan ran in full."""

    mode: str
    snapshot_id: int | None
    base_snapshot_id: int | None = None
    note: str | None = None


def state_path(project_dir: Path, environment: str) -> Path:
    return Path(project_dir) / ".soda" / environment / STATE_FILE


def _recorded(path: Path, environment: str) -> dict[str, dict[str, Any]]:
    """The record's entries by table; ValueError (and others) when it is unusable."""
    state = json.loads(path.read_text(encoding="utf-8"))
    if state.get("version") != STATE_VERSION or state.get("environment") != environment:
        raise ValueError(f"not a version {STATE_VERSION} record of environment {environment}")
    tables = state["tables"]
    for name, entry in tables.items():
        if not _SNAPSHOT_ID.fullmatch(str(entry["snapshot_id"])):
            raise ValueError(f"{name}: snapshot_id {entry['snapshot_id']!r} is not a snapshot id")
    return tables


def recorded_bases(path: Path, environment: str) -> tuple[dict[str, str], str | None]:
    """The passing snapshot per table from the gate's record, and a note if unusable."""
    if not path.exists():
        return {}, None
    try:
        tables = _recorded(path, environment)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return {}, f"the record of passing snapshots {path} is unusable ({exc})"
    return {name: str(entry["snapshot_id"]) for name, entry in tables.items()}, None


def report_bases(path: Path, environment: str) -> dict[str, str]:
    """The snapshots of the tables that passed in the report at ``path``."""
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BaseError(f"--since-report {path}: cannot read a JSON report ({exc})") from None
    if not isinstance(report, dict) or report.get("schema_version") != SCHEMA_VERSION:
        raise BaseError(
            f"--since-report {path}: not a gate report of schema_version {SCHEMA_VERSION}"
        )
    if report.get("environment") != environment:
        raise BaseError(
            f"--since-report {path} is a report of environment {report.get('environment')!r}, "
            f"not {environment!r}: pass the last passing report of {environment}"
        )
    return {
        t["name"]: t["snapshot_id"]
        for t in report.get("tables", [])
        if t.get("outcome") == "pass" and _SNAPSHOT_ID.fullmatch(str(t.get("snapshot_id")))
    }


def record_passing(path: Path, report: dict[str, Any]) -> None:
    """Remember the snapshot of every table that passed (others keep their entry)."""
    passed = [t for t in report["tables"] if t["outcome"] == "pass" and t["snapshot_id"]]
    if not passed:
        return
    try:
        entries = _recorded(path, report["environment"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        entries = {}  # missing or unusable: start a new record
    for table in passed:
        entries[table["name"]] = {
            "snapshot_id": table["snapshot_id"],
            "passed_at": report["finished_at"],
            "mode": table["mode"],
            "release": report["release"],
        }
    state = {"version": STATE_VERSION, "environment": report["environment"], "tables": entries}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def plan_scan(
    table: Table, base: str | None, incremental: bool, head: int | None = None
) -> ScanPlan:
    """Full, or incremental after ``base`` when only appends happened since; of the
    snapshot ``head`` (a branch's head) when given, else of the table's current one."""
    current = table.snapshot_by_id(head) if head is not None else table.current_snapshot()
    current_id = current.snapshot_id if current else None

    def full(reason: str | None = None) -> ScanPlan:
        return ScanPlan(FULL, current_id, note=f"full scan: {reason}" if reason else None)

    if not incremental:
        return full()
    if base is None:
        return full("no passing snapshot of this table is recorded")
    if current is None:
        return full("the table has no snapshot")
    base_id = int(base)
    if current_id == base_id:
        return full(f"nothing was appended since the passing snapshot {base}")
    snapshot = current
    while True:
        operation = snapshot.summary.operation.value if snapshot.summary else "unknown"
        if operation != "append":
            return full(
                f"snapshot {snapshot.snapshot_id} after the passing snapshot {base} is "
                f"'{operation}', not 'append'"
            )
        parent = snapshot.parent_snapshot_id
        if parent == base_id:
            return ScanPlan(INCREMENTAL, current_id, base_id)
        if parent is None:
            return full(
                f"the passing snapshot {base} is not an ancestor of snapshot {current_id} "
                "(the table was replaced or rolled back)"
            )
        snapshot = table.snapshot_by_id(parent)
        if snapshot is None:
            return full(f"snapshot {parent} after the passing snapshot {base} has expired")


def scan_for(table: Table, plan: ScanPlan) -> BaseScan:
    """The pyiceberg scan of ``plan``, pinned to the snapshot the report names."""
    if plan.mode == INCREMENTAL:
        return table.incremental_append_scan(
            from_snapshot_id_exclusive=plan.base_snapshot_id,
            to_snapshot_id_inclusive=plan.snapshot_id,
        )
    if plan.snapshot_id is None:
        return table.scan()
    return table.scan(snapshot_id=plan.snapshot_id)
