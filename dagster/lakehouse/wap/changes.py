"""What a rollback would change, table by table, and how that reads for a person."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from pyiceberg.schema import Schema

# Relation of the target snapshot to the published one, when the history shows it.
SAME, OLDER, NEWER, UNRELATED, UNKNOWN = (
    "same",
    "target-is-ancestor",
    "target-is-descendant",
    "unrelated",
    "unknown",
)
ROLLBACK, UNCHANGED, REFUSED = "rollback", "unchanged", "refused"


@dataclass(frozen=True)
class SnapshotView:
    """One snapshot of a table as far as a rollback cares: its schema and row count."""

    snapshot_id: int
    schema: Schema
    total_records: int | None


@dataclass(frozen=True)
class Lineage:
    """How two snapshots relate: the snapshots strictly between them and their rows."""

    relation: str
    snapshots_between: int | None = None
    rows_added: int | None = None
    rows_deleted: int | None = None


@dataclass
class Change:
    table: str
    current: int | None
    target: int
    action: str
    rows_current: int | None = None
    rows_target: int | None = None
    relation: str = UNKNOWN
    snapshots_between: int | None = None
    rows_added_between: int | None = None
    rows_deleted_between: int | None = None
    schema_changed: bool = False
    schema_diff: dict[str, list[str]] | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def schema_diff(target: Schema, current: Schema) -> dict[str, list[str]] | None:
    """Columns added, removed or changed since ``target`` (None: the same schema)."""
    old = {f.name: f for f in target.fields}
    new = {f.name: f for f in current.fields}
    changed = sorted(
        f"{n}: {old[n].field_type}{'' if old[n].required else '?'} -> "
        f"{new[n].field_type}{'' if new[n].required else '?'}"
        for n in set(old) & set(new)
        if (old[n].field_type, old[n].required, old[n].field_id)
        != (new[n].field_type, new[n].required, new[n].field_id)
    )
    diff = {
        "added": sorted(set(new) - set(old)),
        "removed": sorted(set(old) - set(new)),
        "changed": changed,
    }
    return diff if any(diff.values()) else None


def describe(
    table: str,
    current: SnapshotView | None,
    target: SnapshotView,
    lineage: Lineage,
    allowed: bool,
) -> Change:
    """The change moving ``table`` from ``current`` to ``target`` would make."""
    change = Change(
        table=table,
        current=current.snapshot_id if current else None,
        target=target.snapshot_id,
        action=ROLLBACK,
        rows_current=current.total_records if current else None,
        rows_target=target.total_records,
        relation=lineage.relation,
        snapshots_between=lineage.snapshots_between,
        rows_added_between=lineage.rows_added,
        rows_deleted_between=lineage.rows_deleted,
    )
    if current is not None and current.snapshot_id == target.snapshot_id:
        change.action = UNCHANGED
        return change
    if current is not None:
        change.schema_diff = schema_diff(target.schema, current.schema)
        change.schema_changed = change.schema_diff is not None
    if change.schema_changed and not allowed:
        change.action = REFUSED
        change.reason = (
            f"the schema of {table} changed since snapshot {target.snapshot_id} "
            f"({_diff_text(change.schema_diff)}): readers written for the current schema "
            f"would break; allow it with --allow-schema-change {table}"
        )
    return change


def refused(table: str, target: int, reason: str, current: int | None = None) -> Change:
    return Change(table=table, current=current, target=target, action=REFUSED, reason=reason)


def _diff_text(diff: dict[str, list[str]] | None) -> str:
    if not diff:
        return "no change"
    return "; ".join(f"{kind}: {', '.join(cols)}" for kind, cols in diff.items() if cols)


def _rows(n: int | None) -> str:
    return "?" if n is None else str(n)


def plan_text(backend: str, namespace: str, changes: list[Change]) -> str:
    """The plan as a person reads it before anything moves."""
    lines = [f"rollback of namespace {namespace} ({backend}), published ref main:"]
    for c in changes:
        if c.action == UNCHANGED:
            lines.append(f"  {c.table}: unchanged, already at {c.target}")
            continue
        if c.action == REFUSED:
            lines.append(f"  {c.table}: REFUSED: {c.reason}")
            continue
        line = (
            f"  {c.table}: {c.current} -> {c.target} "
            f"(rows {_rows(c.rows_current)} -> {_rows(c.rows_target)}"
        )
        if c.relation in (OLDER, NEWER):
            verb = "hidden" if c.relation == OLDER else "brought back"
            line += (
                f"; {c.snapshots_between} snapshot(s) between, {verb}: "
                f"+{_rows(c.rows_added_between)} / -{_rows(c.rows_deleted_between)} rows"
            )
        elif c.relation == UNRELATED:
            line += "; the target is not in the published snapshot's line of history"
        if c.schema_changed:
            line += f"; schema change allowed: {_diff_text(c.schema_diff)}"
        lines.append(line + ")")
    return "\n".join(lines)
