"""The DuckDB snapshot of an environment's Iceberg tables that Soda scans.

Runs in the Soda virtualenv (duckdb<1.1). A snapshot is written to a new, uniquely
named file next to its final path and swapped in with ``os.replace`` only when every
table was copied, so the previous snapshot survives a failing catalog and two gates
of one environment never write the same file; readers of the old file keep it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import Any

from lakehouse.config import Settings

MEMORY = ":memory:"


def default_path(project_dir: Path, environment: str) -> Path:
    """``<project_dir>/.soda/<env>/lakehouse.duckdb``: what configuration.yaml opens."""
    return Path(project_dir) / ".soda" / environment / "lakehouse.duckdb"


class Snapshot:
    """A DuckDB snapshot being written; :meth:`publish` or :meth:`discard` ends it."""

    def __init__(self, final: str) -> None:
        import duckdb

        self.final = final
        if final == MEMORY:
            self.path = MEMORY
        else:
            target = Path(final)
            target.parent.mkdir(parents=True, exist_ok=True)
            unique = f".{target.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp"
            self.path = str(target.with_name(unique))
        self.con = duckdb.connect(self.path)
        self._open = True

    def _close(self) -> None:
        if self._open:
            self._open = False
            self.con.close()

    def publish(self) -> None:
        """Make the snapshot the environment's (atomic: readers see old or new)."""
        if self._open and self.path != MEMORY:
            self.con.execute("CHECKPOINT")
        self._close()
        if self.path != MEMORY:
            os.replace(self.path, self.final)

    def discard(self) -> None:
        """Drop what was written; the previous snapshot stays as it was."""
        with contextlib.suppress(Exception):
            self._close()
        if self.path != MEMORY:
            for leftover in (self.path, self.path + ".wal"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(leftover)


def materialize(settings: Settings, tables: list[str], con: Any) -> dict[str, dict[str, Any]]:
    """Copy each Iceberg table into DuckDB (PII masked unless admin); state per table.

    A table that cannot be read gets ``{"error": ...}``; the others are still copied.
    """
    from pyiceberg.exceptions import NoSuchTableError

    from lakehouse.catalog import open_catalog, read_table

    try:
        catalog = open_catalog(settings)
    except Exception as exc:  # catalog unreachable: every table is an error
        return {t: {"error": f"catalog unavailable: {exc}"} for t in tables}
    state: dict[str, dict[str, Any]] = {}
    for name in tables:
        try:
            table = catalog.load_table((settings.namespace, name))
            snapshot = table.current_snapshot()
            data = read_table(catalog, settings, name)
        except NoSuchTableError:
            state[name] = {"error": f"table {settings.namespace}.{name} does not exist"}
            continue
        except Exception as exc:
            state[name] = {"error": f"cannot read {settings.namespace}.{name}: {exc}"}
            continue
        con.register("_incoming", data)
        con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM _incoming')
        con.unregister("_incoming")
        state[name] = {
            "row_count": data.num_rows,
            "snapshot_id": str(snapshot.snapshot_id) if snapshot else None,
        }
    return state


def complete(state: dict[str, dict[str, Any]]) -> bool:
    """Every table copied: only then does a snapshot replace the previous one."""
    return bool(state) and not any("error" in s for s in state.values())
