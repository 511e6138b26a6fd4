"""The DuckDB file of views the gate scans and publishes for ``soda scan``.

Runs in the Soda virtualenv. A snapshot holds no data: one view per table over DuckDB's
Iceberg reader, pinned to the metadata file and snapshot the gate judged, PII masked in
the view for readers (reading.py). It is written under a unique temporary name next to
its final path, ``<dir>/.lakehouse.duckdb.<token>.tmp``, and swapped in with
``os.replace`` only when every table was read in full: the previous snapshot survives a
failing catalog, and two gates of one environment never write the same file. The
extensions its views need are installed from the wheels into ``<dir>/duckdb_extensions``
(configuration.yaml points DuckDB there), so ``soda scan`` never downloads one.

While a gate runs it holds an exclusive lock on ``<dir>/.lakehouse.duckdb.<token>.lock``;
the operating system releases it when the process ends, however it ends. Every gate
starts by removing the files of tokens whose lock it can take: a gate killed mid-run
leaves nothing behind for good. A gate that keeps nothing (``--duckdb-path :memory:``)
spills into ``$TMPDIR/lakehouse-gate-<uid>/`` under the same rule.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Any

from lakehouse.quality import duck

MEMORY = ":memory:"
EXTENSION_DIR = "duckdb_extensions"


def default_path(project_dir: Path, environment: str) -> Path:
    """``<project_dir>/.soda/<env>/lakehouse.duckdb``: what configuration.yaml opens."""
    return Path(project_dir) / ".soda" / environment / "lakehouse.duckdb"


def scratch_anchor() -> Path:
    """What a ``:memory:`` gate names its spill directory and lock after: a directory of
    this user's in the temporary directory, cleaned by the same rule as a snapshot's."""
    return Path(tempfile.gettempdir()) / f"lakehouse-gate-{os.getuid()}" / "memory.duckdb"


def _pattern(final: Path) -> re.Pattern[str]:
    return re.compile(rf"^\.{re.escape(final.name)}\.([0-9a-f]+)\.lock$")


def _token_files(final: Path, token: str) -> list[Path]:
    stem = final.with_name(f".{final.name}.{token}")
    return [Path(f"{stem}.{suffix}") for suffix in ("tmp", "tmp.wal", "spill")]


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def remove_leftovers(final: Path) -> list[str]:
    """Remove what gates that are gone left next to ``final``; the tokens removed."""
    removed = []
    if not final.parent.is_dir():
        return removed
    for lock in sorted(final.parent.iterdir()):
        match = _pattern(final).match(lock.name)
        if not match:
            continue
        try:
            fd = os.open(lock, os.O_RDWR)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)  # a running gate's
            continue
        try:
            for path in _token_files(final, match.group(1)):
                _remove(path)
            lock.unlink(missing_ok=True)
            removed.append(match.group(1))
        finally:
            os.close(fd)
    return removed


class Snapshot:
    """A snapshot being written; :meth:`publish` or :meth:`discard` ends it."""

    def __init__(self, final: str, *, memory_limit: int | None = None) -> None:
        self.final = final
        self.token = secrets.token_hex(6)
        self._lock_fd: int | None = None
        self.con: Any = None
        # The files of this gate are named after ``anchor`` (its token, locked).
        self.anchor = scratch_anchor() if final == MEMORY else Path(final)
        self.anchor.parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(self.anchor)
        self._hold_lock(self.anchor)
        tmp, _, self.spill = _token_files(self.anchor, self.token)
        self.path = MEMORY if final == MEMORY else str(tmp)
        try:
            self.con = duck.connect(self.path, memory_limit=memory_limit, temp_directory=self.spill)
            self.memory_limit = duck.memory_limit_of(self.con)
        except BaseException:
            self.discard()
            raise

    def _hold_lock(self, target: Path) -> None:
        """Lock this gate's token before any of its files exist (renamed in locked, so no
        other gate ever sees the lock file unlocked while this one runs)."""
        staging = target.with_name(f".{target.name}.{self.token}.lock-new")
        fd = os.open(staging, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.replace(staging, target.with_name(f".{target.name}.{self.token}.lock"))
        self._lock_fd = fd

    def limit_memory(self, limit: int) -> None:
        """Let DuckDB use ``limit`` bytes; more work spills to the spill directory."""
        self.memory_limit = duck.limit_memory(self.con, limit)

    def _close(self) -> None:
        if self.con is not None:
            con, self.con = self.con, None
            con.close()
        shutil.rmtree(self.spill, ignore_errors=True)

    def _release(self) -> None:
        if self._lock_fd is not None:
            lock = self.anchor.with_name(f".{self.anchor.name}.{self.token}.lock")
            lock.unlink(missing_ok=True)
            os.close(self._lock_fd)
            self._lock_fd = None

    def _install_extensions(self) -> None:
        """Install the wheels' extensions where configuration.yaml has DuckDB look."""
        directory = Path(self.final).parent / EXTENSION_DIR
        self.con.execute(f"SET extension_directory = {duck.sql_string(str(directory))}")
        for path in duck.extension_files().values():
            self.con.execute(f"INSTALL {duck.sql_string(str(path))}")

    def publish(self) -> None:
        """Make the snapshot the environment's (atomic: readers see old or new)."""
        if self.path == MEMORY:
            self.discard()
            return
        try:
            self._install_extensions()
            self.con.execute("CHECKPOINT")
            self._close()
            os.replace(self.path, self.final)
            # The Parquet copies gates made before they read in place: unreferenced now.
            _remove(Path(self.final).with_name(Path(self.final).name + ".data"))
        except BaseException:
            self.discard()
            raise
        self._release()

    def discard(self) -> None:
        """Drop what was written; the previous snapshot stays as it was."""
        with contextlib.suppress(Exception):
            self._close()
        for leftover in _token_files(self.anchor, self.token):
            _remove(leftover)
        self._release()
