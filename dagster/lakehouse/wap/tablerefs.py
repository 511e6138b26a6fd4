"""Branches as Iceberg table-level refs: for standard REST catalogs and SQL catalogs.

A branch ``B`` is a ref named ``B`` on every table of the namespace, made from the
table's ``main`` snapshot before anything is written to it (pyiceberg writes a branch
that does not exist yet as a snapshot without parent, which would drop main's data from
the branch). A table without any snapshot first gets an empty one on ``main``, marked as
made for ``B``: pyiceberg writes a table without snapshots only to ``main``.

Publishing sets each table's ``main`` to the audited snapshot. Where the REST catalog
advertises ``POST /v1/{prefix}/transactions/commit`` this is one request for all tables
(restcommit.py says how atomic Apache's server makes it); otherwise one table at a time
in name order, with the plan in a state file so an interruption is resumed.
"""

from __future__ import annotations

import contextlib

from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import CommitFailedException, NoSuchNamespaceError, NoSuchTableError
from pyiceberg.table import Table

from lakehouse.catalog import open_catalog
from lakehouse.wap import restcommit
from lakehouse.wap.base import DiscardResult, OnStep, PublishResult, RollbackResult, Versioning
from lakehouse.wap.changes import (
    REFUSED,
    ROLLBACK,
    Change,
    SnapshotView,
    describe,
    refused,
)
from lakehouse.wap.history import ancestors as _ancestors
from lakehouse.wap.history import lineage
from lakehouse.wap.history import records as _records
from lakehouse.wap.model import (
    PUBLISHED,
    Pinned,
    Plan,
    Step,
    WapError,
    WapRefused,
    audit_mismatches,
    check_resumable,
    mismatches,
)
from lakehouse.wap.steps import StepConflict, run_plan

# Summary properties of the empty snapshot made on main of a table without snapshots.
MADE_FOR = "lakehouse.wap.made-for-branch"
CREATED_TABLE = "lakehouse.wap.created-table"


def _main_id(table: Table) -> int | None:
    snapshot = table.current_snapshot()
    return snapshot.snapshot_id if snapshot else None


class TableRefs(Versioning):
    backend = "table-refs"

    def __init__(
        self, settings, catalog: Catalog | None = None, *, one_table_at_a_time: bool = False
    ) -> None:
        super().__init__(settings)
        self._catalog = catalog
        # Never use the multi-table commit (the benchmark compares; a test interrupts).
        self.one_table_at_a_time = one_table_at_a_time

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = open_catalog(self.settings)
        return self._catalog

    def method(self) -> str:
        if not self.one_table_at_a_time and restcommit.supports_multi_table_commit(self.catalog):
            return "multi-table-commit"
        return "per-table"

    def _names(self) -> list[str]:
        try:
            return sorted(ident[-1] for ident in self.catalog.list_tables(self.namespace))
        except NoSuchNamespaceError:
            return []

    def _load(self, name: str) -> Table:
        return self.catalog.load_table((self.namespace, name))

    def _tables(self) -> dict[str, Table]:
        return {name: self._load(name) for name in self._names()}

    # --- reads ---------------------------------------------------------------------
    def head(self, ref: str, tables: dict[str, Table] | None = None) -> Pinned:
        tables = self._tables() if tables is None else tables
        if ref == PUBLISHED:
            return Pinned(ref, None, {n: _main_id(t) for n, t in tables.items()})
        heads = {
            n: t.metadata.refs[ref].snapshot_id for n, t in tables.items() if ref in t.metadata.refs
        }
        if not heads:
            raise WapRefused(f"branch {ref!r} does not exist on any table of {self.namespace}")
        return Pinned(ref, None, heads)

    def exists(self, branch: str, tables: dict[str, Table] | None = None) -> bool:
        tables = self._tables() if tables is None else tables
        return any(branch in t.metadata.refs for t in tables.values())

    # --- branches --------------------------------------------------------------------
    def begin(self, branch: str) -> Pinned:
        tables = self._tables()  # loaded once: on REST every load is a round trip
        if self.exists(branch, tables):
            raise WapRefused(
                f"branch {branch!r} exists already (kept from an earlier attempt?): discard "
                f"it first (python -m lakehouse.wap discard --branch {branch})"
            )
        base = self.head(PUBLISHED, tables)
        with_snapshot = {n: t for n, t in tables.items() if _main_id(t) is not None}
        if self.method() == "multi-table-commit" and with_snapshot:
            changes = [
                (n, {branch: None, PUBLISHED: base.tables[n]}, {branch: base.tables[n]}, [])
                for n in sorted(with_snapshot)
            ]  # one request for every table: the branch and main's snapshot it starts at
            try:
                restcommit.commit_refs(self.catalog, self.namespace, changes)
            except CommitFailedException as exc:
                raise WapRefused(f"main moved while branching, no branch made: {exc}") from None
            tables = {n: t for n, t in tables.items() if n not in with_snapshot}
        for table in tables.values():
            self._ensure_ref(table, branch, created=False)
        return base

    def ensure_branch(self, branch: str) -> None:
        for table in self._tables().values():
            self._ensure_ref(table, branch, created=False)

    def _ensure_ref(self, table: Table, branch: str, *, created: bool) -> Table:
        if branch in table.metadata.refs:
            return table
        if table.current_snapshot() is None:
            marks = {MADE_FOR: branch, CREATED_TABLE: "true" if created else "false"}
            # A concurrent writer of the same branch may have made it: then it is there.
            with (
                contextlib.suppress(CommitFailedException),
                table.transaction() as tx,
                tx.update_snapshot(marks).fast_append(),
            ):
                pass
            table = self.catalog.load_table(table.name())
        main = _main_id(table)
        assert main is not None
        try:
            table.manage_snapshots().create_branch(main, branch).commit()  # updates table
        except CommitFailedException:
            table = self.catalog.load_table(table.name())
            if branch not in table.metadata.refs:
                raise
        return table

    def changed(self, branch: str, tables: dict[str, Table] | None = None) -> dict[str, int]:
        """Tables whose ``branch`` head holds writes main does not have: name -> head."""
        found = {}
        for name, table in (self._tables() if tables is None else tables).items():
            ref = table.metadata.refs.get(branch)
            main = _main_id(table)
            if ref is None or ref.snapshot_id == main:
                continue
            if main is not None and ref.snapshot_id in {
                s.snapshot_id for s in _ancestors(table, main)
            }:
                continue  # main has it already (an earlier publish)
            found[name] = ref.snapshot_id
        return found

    def publish(self, branch, expected, *, state=None, keep=False, on_step: OnStep = None):
        plan = Plan.load(state, "publish", branch, self.namespace) if state else None
        check_resumable(plan, expected, state)
        tables = self._tables()
        if plan is None or self.exists(branch, tables):
            changed = self.changed(branch, tables)
            heads = self.head(branch, tables).tables
            if bad := audit_mismatches(expected, heads, set(changed)):
                raise WapRefused(
                    f"branch {branch!r} does not hold what was audited: publish nothing",
                    mismatches=bad,
                )
        if plan is None:
            steps = self._publish_steps({t: expected[t] for t in changed}, tables)
            plan = Plan("publish", branch, self.namespace, steps, state)
            plan.extra["expected"] = expected
        method = self.method()
        run_plan(
            plan,
            self._current(tables),
            apply_one=lambda step: self._move_main(step, branch),
            # One request publishes every table and, unless kept, drops their branch refs.
            apply_all=(lambda steps: self._move_all(steps, branch, drop=not keep))
            if method == "multi-table-commit"
            else None,
            on_step=on_step,
        )
        published, tables = self._verify(plan)
        removed = False
        if not keep:
            gone = self.discard(branch, tables).removed
            removed = gone or not self.exists(branch, tables)
        return PublishResult(method, plan, published, removed)

    def _current(self, tables: dict[str, Table]):
        """Main's snapshot of a table: from ``tables`` the first time, then reloaded."""
        first = dict(tables)

        def current(name: str) -> int | None:
            return _main_id(first.pop(name) if name in first else self._load(name))

        return current

    def _publish_steps(self, expected: dict[str, int], tables: dict[str, Table]) -> list[Step]:
        steps = []
        for name in sorted(expected):
            table = tables[name]
            base, target = _main_id(table), expected[name]
            known = {s.snapshot_id for s in _ancestors(table, target)}
            if base is not None and base != target and base not in known:
                raise WapRefused(
                    f"main of {name} moved since branch was made: it is at {base}, which the "
                    f"audited snapshot {target} does not descend from; publishing would drop "
                    "those writes: publish nothing (verify again from the new main)",
                    mismatches=[{"table": name, "expected": target, "actual": base}],
                )
            steps.append(Step(name, base, target))
        return steps

    def _move_main(self, step: Step, branch: str | None) -> None:
        table = self._load(step.table)
        if _main_id(table) != step.base:
            raise StepConflict(f"main of {step.table} moved to {_main_id(table)}")
        try:
            table.manage_snapshots().set_current_snapshot(step.target).commit()
        except CommitFailedException as exc:
            raise StepConflict(f"main of {step.table} moved while publishing: {exc}") from None

    def _move_all(self, steps: list[Step], branch: str | None, *, drop: bool = False) -> None:
        """All steps in one multi-table commit; with ``drop`` the branch goes with it."""
        changes = []
        for step in steps:
            required: dict[str, int | None] = {PUBLISHED: step.base}
            if branch is not None:
                required[branch] = step.target
            remove = [branch] if drop and branch is not None else []
            changes.append((step.table, required, {PUBLISHED: step.target}, remove))
        try:
            restcommit.commit_refs(self.catalog, self.namespace, changes)
        except CommitFailedException as exc:
            raise StepConflict(f"the catalog refused the commit, nothing moved: {exc}") from None

    def _verify(self, plan: Plan) -> tuple[Pinned, dict[str, Table]]:
        tables = self._tables()
        published = self.head(PUBLISHED, tables)
        if bad := mismatches(plan.targets(), {t: published.tables.get(t) for t in plan.targets()}):
            raise WapError(
                "after the commit, main does not hold the planned snapshots", mismatches=bad
            )
        return published, tables

    def discard(self, branch: str, tables: dict[str, Table] | None = None) -> DiscardResult:
        result = DiscardResult(removed=False)
        for name, table in (self._tables() if tables is None else tables).items():
            if branch not in table.metadata.refs:
                continue
            result.removed = True
            if self._made_by(table, branch):
                self.catalog.drop_table((self.namespace, name))
                result.dropped_tables.append(name)
                continue
            with contextlib.suppress(CommitFailedException):  # removed concurrently
                table.manage_snapshots().remove_branch(branch).commit()
        return result

    @staticmethod
    def _made_by(table: Table, branch: str) -> bool:
        """Whether the table exists only because a write to ``branch`` created it."""
        main = table.current_snapshot()
        if main is None or len(table.metadata.snapshot_log) > 1:
            return False
        summary = main.summary
        return bool(summary) and summary[MADE_FOR] == branch and summary[CREATED_TABLE] == "true"

    # --- rollback --------------------------------------------------------------------
    def plan_rollback(self, target: dict[str, int], allow: set[str]) -> list[Change]:
        changes = []
        for name in sorted(target):
            try:
                table = self._load(name)
            except NoSuchTableError:
                changes.append(refused(name, target[name], f"table {name} does not exist"))
                continue
            current, wanted = _main_id(table), target[name]
            snapshot = table.snapshot_by_id(wanted)
            if snapshot is None:
                reason = f"snapshot {wanted} is no longer in {name}'s metadata (expired?)"
                changes.append(refused(name, wanted, reason, current))
                continue
            changes.append(
                describe(
                    name,
                    self._view(table, current, current=True),
                    self._view(table, wanted, current=False),
                    lineage(table, current, wanted),
                    allowed=name in allow,
                )
            )
        return changes

    @staticmethod
    def _view(table: Table, snapshot_id: int | None, *, current: bool) -> SnapshotView | None:
        """The snapshot with the schema readers see: the table's schema for the published
        snapshot (what readers use now), the snapshot's own for a target."""
        snapshot = table.snapshot_by_id(snapshot_id) if snapshot_id is not None else None
        if snapshot is None:
            return None
        schema = table.schema()
        if not current and snapshot.schema_id is not None:
            schema = {s.schema_id: s for s in table.metadata.schemas}.get(
                snapshot.schema_id, schema
            )
        return SnapshotView(snapshot.snapshot_id, schema, _records(snapshot, "total-records"))

    def rollback(self, target, allow, *, state=None, on_step: OnStep = None):
        plan = Plan.load(state, "rollback", None, self.namespace) if state else None
        if plan is not None and plan.targets() != target:
            raise WapRefused(f"state file {state} rolls back to {plan.targets()}, not {target}")
        changes = self.plan_rollback(target, allow)
        if plan is None:
            if bad := [c for c in changes if c.action == REFUSED]:
                raise WapRefused(
                    "rollback refused for " + ", ".join(c.table for c in bad) + ": nothing moved",
                    changes=changes,
                )
            steps = [Step(c.table, c.current, c.target) for c in changes if c.action == ROLLBACK]
            moved_from = {c.table: c.current for c in changes if c.current is not None}
            plan = Plan("rollback", None, self.namespace, steps, state)
            plan.extra["moved_from"] = moved_from
        method = self.method()
        run_plan(
            plan,
            lambda name: _main_id(self._load(name)),
            apply_one=lambda step: self._move_main(step, None),
            apply_all=(lambda steps: self._move_all(steps, None))
            if method == "multi-table-commit"
            else None,
            on_step=on_step,
        )
        published, _ = self._verify(plan)
        return RollbackResult(method, changes, plan, dict(plan.extra["moved_from"]), published)

    # --- the write path --------------------------------------------------------------
    def write_catalog(self, branch: str) -> Catalog:
        return self.catalog

    def write_ref(self, branch: str) -> str:
        return branch

    def prepare_write(self, table: Table, branch: str, *, created: bool) -> Table:
        return self._ensure_ref(table, branch, created=created)

    def read_snapshot(self, table: Table, branch: str) -> int | None:
        ref = table.metadata.refs.get(branch)
        return ref.snapshot_id if ref else _main_id(table)
