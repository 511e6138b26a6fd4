"""The one interface both ways of branching implement (see lakehouse/wap/__init__.py)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from pyiceberg.catalog import Catalog
from pyiceberg.table import Table

from lakehouse.config import Settings
from lakehouse.wap.changes import Change
from lakehouse.wap.model import Pinned, Plan, Step

OnStep = Callable[[Step], None] | None


@dataclass
class PublishResult:
    method: str  # nessie-merge | multi-table-commit | per-table
    plan: Plan
    published: Pinned
    branch_removed: bool


@dataclass
class DiscardResult:
    removed: bool
    dropped_tables: list[str] = field(default_factory=list)


@dataclass
class RollbackResult:
    method: str
    changes: list[Change]
    plan: Plan
    moved_from: dict[str, int]
    published: Pinned


class Versioning(ABC):
    """Branches of the lakehouse's namespace: make, read, publish, discard, roll back.

    Every table is named by its name inside the settings' namespace. The published
    state is ``main`` (Iceberg's main branch; for Nessie the branch of the catalog URI).
    """

    backend: ClassVar[str]

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.namespace = settings.namespace

    @abstractmethod
    def method(self) -> str:
        """How publish and rollback commit: nessie-merge, multi-table-commit, per-table."""

    # --- reads ---------------------------------------------------------------------
    @abstractmethod
    def head(self, ref: str) -> Pinned:
        """Every table at ``ref`` now; WapRefused when the branch does not exist."""

    @abstractmethod
    def exists(self, branch: str) -> bool: ...

    # --- branches --------------------------------------------------------------------
    @abstractmethod
    def begin(self, branch: str) -> Pinned:
        """Make ``branch`` from the published state; returns that state (the base).

        Refused when the branch exists: a new verification never reuses old writes.
        """

    @abstractmethod
    def ensure_branch(self, branch: str) -> None:
        """Make ``branch`` unless it exists (writers of one run call it concurrently)."""

    @abstractmethod
    def changed(self, branch: str) -> dict[str, int]:
        """Tables whose head on ``branch`` holds writes main does not: table -> head.

        Only these are published; a table the branch did not change keeps its published
        snapshot (which may be newer than the branch's, written since the branch was made).
        """

    @abstractmethod
    def publish(
        self,
        branch: str,
        expected: dict[str, int],
        *,
        state: Path | None = None,
        keep: bool = False,
        on_step: OnStep = None,
    ) -> PublishResult:
        """Move the published state of every table ``branch`` changed to exactly its
        ``expected`` snapshot. Refused when a table named in ``expected`` is not at that
        snapshot on the branch, or the branch changed a table ``expected`` does not name.
        Then remove the branch unless ``keep``."""

    @abstractmethod
    def discard(self, branch: str) -> DiscardResult:
        """Remove ``branch``; the published state is not touched."""

    # --- rollback --------------------------------------------------------------------
    @abstractmethod
    def plan_rollback(self, target: dict[str, int], allow: set[str]) -> list[Change]:
        """What moving every table's published state to ``target`` would change."""

    @abstractmethod
    def rollback(
        self,
        target: dict[str, int],
        allow: set[str],
        *,
        state: Path | None = None,
        on_step: OnStep = None,
    ) -> RollbackResult:
        """Move the published state to ``target``; refused as a whole when any table is."""

    # --- the write path --------------------------------------------------------------
    @abstractmethod
    def write_catalog(self, branch: str) -> Catalog:
        """The catalog writers of ``branch`` open."""

    @abstractmethod
    def write_ref(self, branch: str) -> str:
        """The ``branch=`` writers of ``branch`` pass to pyiceberg."""

    @abstractmethod
    def prepare_write(self, table: Table, branch: str, *, created: bool) -> Table:
        """Make ``table`` ready for a write to ``branch`` (``created``: by this write)."""

    @abstractmethod
    def read_snapshot(self, table: Table, branch: str) -> int | None:
        """The snapshot id a reader of ``branch`` sees for ``table``."""
