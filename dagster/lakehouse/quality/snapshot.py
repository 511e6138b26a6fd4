"""The DuckDB snapshot of an environment's Iceberg tables that Soda scans.

Runs in the Soda virtualenv (duckdb<1.1). A snapshot is a small DuckDB file of views,
one per table, over Parquet copies of the tables (masked, deletes applied: see
stream.py) in a directory of its own, ``<final>.data/<token>/``. DuckDB reads those
files with a memory limit, spilling to ``<token>/spill``; the gate raises the limit
only for checks that cannot run within it.

The DuckDB file is written under a new, unique name next to its final path and swapped
in with ``os.replace`` only when every table was copied: the previous snapshot survives
a failing catalog, two gates of one environment never write the same files, and
readers that opened the previous file keep its data until the snapshot after it is
published (the data of older snapshots is removed, under a lock, at publication).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

MEMORY = ":memory:"
MIB = 2**20
# DuckDB's memory for the checks, unless the gate is told otherwise: what its hash
# aggregates need per thread to spill instead of failing (measured with DuckDB 1.0 on
# Soda's duplicate_count over 4e6 distinct keys; 2e7 keys need about 256 MiB).
PER_THREAD_LIMIT = 32 * MIB
MIN_MEMORY_LIMIT = 64 * MIB
_CURRENT = "current"  # in <final>.data/: the token of the published snapshot


def memory_ceiling() -> int:
    """Half of the memory this process may use (the machine's, or its cgroup's)."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    with contextlib.suppress(OSError, ValueError):
        total = min(total, int(Path("/sys/fs/cgroup/memory.max").read_text().strip()))
    return total // 2


def default_path(project_dir: Path, environment: str) -> Path:
    """``<project_dir>/.soda/<env>/lakehouse.duckdb``: what configuration.yaml opens."""
    return Path(project_dir) / ".soda" / environment / "lakehouse.duckdb"


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


class Snapshot:
    """A DuckDB snapshot being written; :meth:`publish` or :meth:`discard` ends it."""

    def __init__(self, final: str, *, memory_limit: int | None = None) -> None:
        import duckdb

        self.final = final
        self.token = secrets.token_hex(6)
        self._open = False
        if final == MEMORY:
            self.path = MEMORY
            self.root: Path | None = None
            self.data = Path(tempfile.mkdtemp(prefix="lakehouse-gate-"))
        else:
            target = Path(final)
            target.parent.mkdir(parents=True, exist_ok=True)
            self.path = str(target.with_name(f".{target.name}.{os.getpid()}.{self.token}.tmp"))
            self.root = target.with_name(target.name + ".data")
            self.data = self.root / self.token
        try:
            # The DuckDB file first: its name marks the data directory as in use.
            self.con = duckdb.connect(self.path)
            self._open = True
            self.data.mkdir(parents=True, exist_ok=True)
            self.con.execute("SET enable_progress_bar = false")
            self.con.execute(f"SET temp_directory = {_sql_string(str(self.data / 'spill'))}")
            (threads,) = self.con.execute("SELECT current_setting('threads')").fetchone()
            self.memory_limit = 0
            self.limit_memory(memory_limit or max(MIN_MEMORY_LIMIT, PER_THREAD_LIMIT * threads))
        except BaseException:
            self.discard()
            raise

    def limit_memory(self, limit: int) -> None:
        """Let DuckDB use ``limit`` bytes; more work spills to ``spill/``."""
        self.con.execute(f"SET memory_limit = '{max(1, limit // MIB)}MiB'")
        self.memory_limit = limit

    def parquet_path(self, table: str) -> Path:
        """Where the copy of ``table`` goes."""
        return self.data / f"{table}.parquet"

    def add_view(self, table: str) -> None:
        """Expose the copy of ``table`` to Soda as the view ``table``."""
        source = _sql_string(str(self.parquet_path(table)))
        self.con.execute(
            f"CREATE OR REPLACE VIEW {_identifier(table)} AS SELECT * FROM read_parquet({source})"
        )

    def _close(self) -> None:
        if self._open:
            self._open = False
            self.con.close()
            shutil.rmtree(self.data / "spill", ignore_errors=True)

    def publish(self) -> None:
        """Make the snapshot the environment's (atomic: readers see old or new)."""
        if self._open and self.path != MEMORY:
            self.con.execute("CHECKPOINT")
        self._close()
        if self.root is None:
            shutil.rmtree(self.data, ignore_errors=True)
            return
        with _locked(self.root):
            marker = self.root / _CURRENT
            previous = marker.read_text().strip() if marker.exists() else None
            os.replace(self.path, self.final)
            staged = marker.with_name(f".{_CURRENT}.{self.token}")
            staged.write_text(self.token)
            os.replace(staged, marker)
            keep = {self.token, previous, *self._in_progress()}
            for entry in self.root.iterdir():
                if entry.is_dir() and entry.name not in keep:
                    shutil.rmtree(entry, ignore_errors=True)

    def _in_progress(self) -> set[str]:
        """Tokens of snapshots other gates are writing next to this one."""
        target = Path(self.final)
        pattern = re.compile(rf"^\.{re.escape(target.name)}\.\d+\.([0-9a-f]+)\.tmp$")
        return {m.group(1) for p in target.parent.iterdir() if (m := pattern.match(p.name))}

    def discard(self) -> None:
        """Drop what was written; the previous snapshot stays as it was."""
        with contextlib.suppress(Exception):
            self._close()
        shutil.rmtree(self.data, ignore_errors=True)
        if self.path != MEMORY:
            for leftover in (self.path, self.path + ".wal"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(leftover)
        if self.root is not None:
            with contextlib.suppress(OSError):
                self.root.rmdir()  # only when no snapshot has data in it
