"""Branches as Nessie catalog-level branches, through Nessie's API v2.

Nessie 0.106 refuses every Iceberg snapshot ref but ``main`` and keeps one snapshot per
table (its Iceberg REST ``set-snapshot-ref`` to another ref or an older snapshot fails),
so a branch is a Nessie branch of the whole catalog:

- begin: ``audit-<id>`` from the published branch's hash; writers use the catalog URI
  ``<nessie>/iceberg/audit-<id>``, an auditor ``…/iceberg/audit-<id>@<hash>``.
- publish: a dry-run merge says which tables the branch changed and whether any
  conflicts; then one merge of the branch at the audited hash into the published branch,
  one Nessie commit for every table (a conflict commits nothing); then the published
  content is checked against what was audited and the branch deleted.
- rollback: one commit putting back each table's recorded content (found in the published
  branch's history by its snapshot id), expected at the hash the plan was made at: a
  table changed since refuses the whole commit.
"""

from __future__ import annotations

import re
from typing import Any

from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.table import StaticTable, Table

from lakehouse.config import ConfigError, Settings
from lakehouse.wap.base import DiscardResult, OnStep, PublishResult, RollbackResult, Versioning
from lakehouse.wap.changes import (
    REFUSED,
    ROLLBACK,
    UNKNOWN,
    Change,
    Lineage,
    SnapshotView,
    describe,
    refused,
)
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
from lakehouse.wap.nessie_api import NessieApi, NessieHttpError
from lakehouse.wap.steps import StepConflict, run_plan

_URI = re.compile(r"^(?P<base>.+)/iceberg/(?P<ref>[^/@|]+)/?$")


def _split_uri(settings: Settings) -> tuple[str, str]:
    match = _URI.match(settings.catalog_uri)
    if not match:
        raise ConfigError(
            f"ICEBERG_CATALOG_URI={settings.catalog_uri!r} does not name Nessie's published "
            "branch: use <nessie>/iceberg/<branch>, e.g. http://nessie:19120/iceberg/main"
        )
    return match["base"], match["ref"]


def catalog_uri_for(settings: Settings, ref: str) -> str:
    """Nessie's Iceberg REST URI of ``ref`` (``branch`` or ``branch@hash``)."""
    return f"{_split_uri(settings)[0]}/iceberg/{ref}"


def _snapshot(content: dict[str, Any] | None) -> int | None:
    return int(content["snapshotId"]) if content and "snapshotId" in content else None


class NessieBranches(Versioning):
    backend = "nessie"

    def __init__(self, settings: Settings, api: NessieApi | None = None) -> None:
        super().__init__(settings)
        base, self.published = _split_uri(settings)
        self.api = api or NessieApi(settings.nessie_api_uri or f"{base}/api/v2")

    def method(self) -> str:
        return "nessie-merge"

    def _name(self, ref: str) -> str:
        return self.published if ref == PUBLISHED else ref

    def _ref(self, ref: str) -> dict[str, Any]:
        found = self.api.reference(self._name(ref))
        if found is None:
            raise WapRefused(f"branch {ref!r} does not exist in Nessie")
        return found

    def _contents(self, name: str, hash_: str) -> dict[str, dict[str, Any]]:
        return self.api.tables(f"{name}@{hash_}", self.namespace)

    # --- reads ---------------------------------------------------------------------
    def head(self, ref: str) -> Pinned:
        found = self._ref(ref)
        contents = self._contents(found["name"], found["hash"])
        return Pinned(ref, found["hash"], {t: _snapshot(c) for t, c in contents.items()})

    def exists(self, branch: str) -> bool:
        return self.api.reference(branch) is not None

    # --- branches --------------------------------------------------------------------
    def begin(self, branch: str) -> Pinned:
        if self.exists(branch):
            raise WapRefused(
                f"branch {branch!r} exists already (kept from an earlier attempt?): discard "
                f"it first (python -m lakehouse.wap discard --branch {branch})"
            )
        base = self.head(PUBLISHED)
        try:
            self.api.create_branch(branch, self.published, str(base.hash))
        except NessieHttpError as exc:
            if exc.status == 409:
                raise WapRefused(f"branch {branch!r} was made meanwhile: {exc}") from None
            raise
        return base

    def ensure_branch(self, branch: str) -> None:
        if self.exists(branch):
            return
        main = self._ref(PUBLISHED)
        try:
            self.api.create_branch(branch, self.published, main["hash"])
        except NessieHttpError as exc:
            if exc.status != 409 or not self.exists(branch):  # 409: a concurrent writer
                raise

    def _trial(self, branch: str, source_hash: str, main_hash: str) -> dict[str, Any]:
        """A dry-run merge: which tables the branch changed; refused on a conflict."""
        message = f"publish {branch} (lakehouse.wap)"
        trial = self.api.merge(
            self.published, main_hash, branch, source_hash, message, dry_run=True
        )
        if not trial.get("wasSuccessful", False):
            raise WapRefused(
                f"main changed the same tables as {branch} since it was made: the merge "
                f"would conflict, nothing published ({_conflicts(trial)}); verify again "
                "from the new main"
            )
        return trial

    def changed(self, branch: str) -> dict[str, int]:
        source, main = self._ref(branch), self._ref(PUBLISHED)
        trial = self._trial(branch, source["hash"], main["hash"])
        heads = self._contents(branch, source["hash"])
        keys = [tuple(d["key"]["elements"]) for d in trial.get("details", [])]
        return {
            k[-1]: int(heads[k[-1]]["snapshotId"])
            for k in keys
            if k[:-1] == (self.namespace,) and k[-1] in heads
        }

    def publish(self, branch, expected, *, state=None, keep=False, on_step: OnStep = None):
        plan = Plan.load(state, "publish", branch, self.namespace) if state else None
        check_resumable(plan, expected, state)
        source = self.api.reference(branch)
        main = self._ref(PUBLISHED)
        if source is None and plan is None:
            raise WapRefused(f"branch {branch!r} does not exist in Nessie")
        if source is not None:
            heads = self._contents(branch, source["hash"])
            changed = self.changed(branch)
            found = {t: _snapshot(c) for t, c in heads.items()}
            if bad := audit_mismatches(expected, found, set(changed)):
                raise WapRefused(
                    f"branch {branch!r} does not hold what was audited: publish nothing",
                    mismatches=bad,
                )
        published = self._contents(main["name"], main["hash"])
        if plan is None:
            steps = [Step(t, _snapshot(published.get(t)), changed[t]) for t in sorted(changed)]
            plan = Plan("publish", branch, self.namespace, steps, state)
            plan.extra["expected"] = expected

        def merge(pending: list[Step]) -> None:
            if source is None:
                raise WapRefused(f"branch {branch!r} is gone and main is not at its target")
            message = f"publish {branch} (lakehouse.wap)"
            result = self.api.merge(self.published, main["hash"], branch, source["hash"], message)
            if not result.get("wasSuccessful", False):
                raise StepConflict(f"the merge found conflicts: {_conflicts(result)}")

        current = {t: _snapshot(c) for t, c in published.items()}
        run_plan(plan, current.get, apply_all=merge, on_step=on_step)
        after = self.head(PUBLISHED)
        if bad := mismatches(plan.targets(), {t: after.tables.get(t) for t in plan.targets()}):
            raise WapError(
                "after the merge, main does not hold the audited snapshots", mismatches=bad
            )
        removed = False
        if not keep and source is not None:
            removed = self.discard(branch).removed
        return PublishResult("nessie-merge", plan, after, removed)

    def discard(self, branch: str) -> DiscardResult:
        found = self.api.reference(branch)
        if found is None:
            return DiscardResult(removed=False)
        self.api.delete_branch(branch, found["hash"])
        return DiscardResult(removed=True)

    # --- rollback --------------------------------------------------------------------
    def _recorded(self, table: str, snapshot_id: int) -> dict[str, Any] | None:
        """The newest content of ``table`` in the published branch's history with that id."""
        key = (self.namespace, table)
        for entry in self.api.log(self.published, key):
            for op in entry.get("operations") or []:
                same_key = tuple(op["key"]["elements"]) == key and op.get("type") == "PUT"
                if same_key and _snapshot(op.get("content")) == snapshot_id:
                    return op["content"]
        return None

    def _view(self, content: dict[str, Any]) -> SnapshotView:
        props = self.settings.catalog_properties()
        try:
            table = StaticTable.from_metadata(content["metadataLocation"], properties=props)
        except Exception as exc:
            raise WapError(f"cannot read {content.get('metadataLocation')}: {exc}") from None
        snapshot = table.current_snapshot()
        total = snapshot.summary["total-records"] if snapshot and snapshot.summary else None
        return SnapshotView(
            int(content["snapshotId"]), table.schema(), int(total) if total else None
        )

    def _plan(self, target: dict[str, int], allow: set[str]):
        main = self._ref(PUBLISHED)
        current = self._contents(main["name"], main["hash"])
        changes: list[Change] = []
        puts: dict[tuple[str, ...], dict] = {}
        for name in sorted(target):
            now, wanted = current.get(name), target[name]
            if now is None:
                changes.append(refused(name, wanted, f"table {name} does not exist"))
                continue
            if _snapshot(now) == wanted:
                view = self._view(now)
                changes.append(describe(name, view, view, Lineage(UNKNOWN), name in allow))
                continue
            old = self._recorded(name, wanted)
            if old is None:
                reason = f"snapshot {wanted} of {name} is not in {self.published}'s history"
                changes.append(refused(name, wanted, reason, _snapshot(now)))
                continue
            if old.get("id") != now.get("id"):
                reason = f"{name} was dropped and created again since snapshot {wanted}"
                changes.append(refused(name, wanted, reason, _snapshot(now)))
                continue
            change = describe(
                name, self._view(now), self._view(old), Lineage(UNKNOWN), name in allow
            )
            changes.append(change)
            if change.action == ROLLBACK:
                puts[(self.namespace, name)] = old
        return main, current, changes, puts

    def plan_rollback(self, target: dict[str, int], allow: set[str]) -> list[Change]:
        return self._plan(target, allow)[2]

    def rollback(self, target, allow, *, state=None, on_step: OnStep = None):
        plan = Plan.load(state, "rollback", None, self.namespace) if state else None
        if plan is not None and plan.targets() != target:
            raise WapRefused(f"state file {state} rolls back to {plan.targets()}, not {target}")
        main, current, changes, puts = self._plan(target, allow)
        if plan is None:
            if bad := [c for c in changes if c.action == REFUSED]:
                raise WapRefused(
                    "rollback refused for " + ", ".join(c.table for c in bad) + ": nothing moved",
                    changes=changes,
                )
            steps = [Step(c.table, c.current, c.target) for c in changes if c.action == ROLLBACK]
            plan = Plan("rollback", None, self.namespace, steps, state)
            plan.extra["moved_from"] = {
                c.table: c.current for c in changes if c.current is not None
            }

        def commit(pending: list[Step]) -> None:
            wanted = {(self.namespace, s.table): puts[(self.namespace, s.table)] for s in pending}
            try:
                self.api.commit(self.published, main["hash"], wanted, "rollback (lakehouse.wap)")
            except NessieHttpError as exc:
                if exc.status == 409:
                    raise StepConflict(
                        f"a table changed since the plan, nothing moved: {exc}"
                    ) from None
                raise

        run_plan(plan, lambda t: _snapshot(current.get(t)), apply_all=commit, on_step=on_step)
        after = self.head(PUBLISHED)
        if bad := mismatches(plan.targets(), {t: after.tables.get(t) for t in plan.targets()}):
            raise WapError("after the commit, main does not hold the targets", mismatches=bad)
        return RollbackResult("nessie-commit", changes, plan, dict(plan.extra["moved_from"]), after)

    # --- the write path --------------------------------------------------------------
    def write_catalog(self, branch: str) -> Catalog:
        props = {
            **self.settings.catalog_properties(),
            "uri": catalog_uri_for(self.settings, branch),
        }
        return load_catalog(self.settings.catalog_name, **props)

    def write_ref(self, branch: str) -> str:
        return "main"  # Iceberg's main, inside the Nessie branch the catalog URI names

    def prepare_write(self, table: Table, branch: str, *, created: bool) -> Table:
        return table

    def read_snapshot(self, table: Table, branch: str) -> int | None:
        snapshot = table.current_snapshot()
        return snapshot.snapshot_id if snapshot else None


def _conflicts(result: dict[str, Any]) -> str:
    keys = [
        ".".join(d["key"]["elements"]) + f" ({(d.get('conflict') or {}).get('message', '')})"
        for d in result.get("details", [])
        if d.get("conflict")
    ]
    return ", ".join(keys) or "no detail given"
