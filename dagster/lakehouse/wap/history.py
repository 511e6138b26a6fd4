"""A table's snapshot history, as far as its metadata still holds it (table refs)."""

from __future__ import annotations

from pyiceberg.table import Table
from pyiceberg.table.snapshots import Snapshot

from lakehouse.wap.changes import NEWER, OLDER, SAME, UNRELATED, Lineage


def records(snapshot: Snapshot, key: str) -> int | None:
    value = snapshot.summary[key] if snapshot.summary else None
    return int(value) if value is not None else None


def ancestors(table: Table, snapshot_id: int) -> list[Snapshot]:
    """``snapshot_id`` and its ancestors that the table still knows, newest first."""
    chain = []
    snapshot = table.snapshot_by_id(snapshot_id)
    while snapshot is not None:
        chain.append(snapshot)
        parent = snapshot.parent_snapshot_id
        snapshot = table.snapshot_by_id(parent) if parent is not None else None
    return chain


def lineage(table: Table, current: int | None, target: int) -> Lineage:
    if current is None:
        return Lineage(UNRELATED)
    if current == target:
        return Lineage(SAME, 0, 0, 0)
    for relation, newer, older in ((OLDER, current, target), (NEWER, target, current)):
        chain = ancestors(table, newer)
        ids = [s.snapshot_id for s in chain]
        if older in ids:
            between = chain[: ids.index(older)]  # newer .. just after older
            added = [records(s, "added-records") or 0 for s in between]
            deleted = [records(s, "deleted-records") or 0 for s in between]
            return Lineage(relation, len(between), sum(added), sum(deleted))
    return Lineage(UNRELATED)
