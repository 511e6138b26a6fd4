"""SCD type 2 merge of a source snapshot into the current dimension rows."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

TRACKED = ("full_name", "email", "country", "tier", "status")


def record_hash(row: dict[str, Any]) -> str:
    payload = "\x1f".join("" if row.get(c) is None else str(row[c]) for c in TRACKED)
    return hashlib.sha256(payload.encode()).hexdigest()


def merge_scd2(
    existing: Sequence[dict[str, Any]],
    snapshot: Iterable[dict[str, Any]],
    as_of: datetime,
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Return the full new dimension and counts of inserted/changed/closed/unchanged keys.

    Changed keys get their current version closed at ``as_of`` and a new current version;
    keys missing from the snapshot are closed. Re-running with the same snapshot is a no-op.
    """
    rows = [dict(r) for r in existing]
    current = {r["customer_id"]: r for r in rows if r["is_current"]}
    next_sk = max((r["customer_sk"] for r in rows), default=0) + 1
    stats = {"inserted": 0, "changed": 0, "closed": 0, "unchanged": 0}
    seen: set[str] = set()
    for src in snapshot:
        key = src["customer_id"]
        seen.add(key)
        digest = record_hash(src)
        old = current.get(key)
        if old is not None and old["record_hash"] == digest:
            stats["unchanged"] += 1
            continue
        if old is not None:
            if as_of <= old["effective_from"]:
                stats["unchanged"] += 1  # late/duplicate snapshot: never rewrite history
                continue
            old.update(effective_to=as_of, is_current=False, updated_at=as_of)
            stats["changed"] += 1
        else:
            stats["inserted"] += 1
        rows.append(
            {
                "customer_sk": next_sk,
                **{c: src.get(c) for c in ("customer_id", *TRACKED)},
                "record_hash": digest,
                "effective_from": as_of,
                "effective_to": None,
                "is_current": True,
                "updated_at": as_of,
            }
        )
        next_sk += 1
    for key, old in current.items():
        if key not in seen and old["is_current"] and as_of > old["effective_from"]:
            old.update(effective_to=as_of, is_current=False, updated_at=as_of)
            stats["closed"] += 1
    rows.sort(key=lambda r: (r["customer_id"], r["effective_from"]))
    return rows, stats
