"""What both versioning backends and the CLI exchange (no I/O here).

A *pinned state* names, for one ref (the published ``main`` or a branch), the Iceberg
snapshot id of every table of the namespace, and for Nessie the commit hash it was read
at: reading those tables at those snapshots gives exactly what was judged.

A *plan* is an ordered list of steps (table, base snapshot, target snapshot) that moves
the published ref of each table from base to target. It is written to a state file
before anything is applied and after every step, so an interrupted publish or rollback
is reported and resumed: a table already at its target is done, one still at its base
is applied, anything else is a conflict that stops the plan.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# Version of every JSON document this package writes (CLI output, state files).
SCHEMA_VERSION = 1
# The published state: Iceberg's main branch, and the Nessie branch named in the URI.
PUBLISHED = "main"

# Every Dagster run of a deployment that branches its runs writes to run-<run id>.
RUN_BRANCH_PREFIX = "run-"

# Step results: applied now, found already applied (a resumed plan), not applied yet,
# or the table's published ref is at neither the base nor the target (stopped there).
APPLIED, ALREADY_APPLIED, PENDING, CONFLICT = "applied", "already-applied", "pending", "conflict"


class WapRefused(Exception):
    """The operation was refused (exit 1): what the catalog holds does not allow it.

    Nothing was changed, except what the steps attached to the result say was applied.
    ``details`` are merged into the command's JSON document.
    """

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details = details


class WapError(Exception):
    """The operation failed (exit 3): the catalog or its answer was not usable."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details = details


@dataclass(frozen=True)
class Pinned:
    """Every table of the namespace at one ref: table -> snapshot id (None: no snapshot)."""

    ref: str
    hash: str | None
    tables: dict[str, int | None]

    def to_json(self) -> dict[str, Any]:
        return {"ref": self.ref, "hash": self.hash, "tables": dict(sorted(self.tables.items()))}


def mismatches(expected: dict[str, int], actual: dict[str, int | None]) -> list[dict[str, Any]]:
    """Tables whose snapshot differs between what was audited and what a ref holds."""
    return [
        {"table": name, "expected": expected.get(name), "actual": actual.get(name)}
        for name in sorted(set(expected) | set(actual))
        if expected.get(name) != actual.get(name)
    ]


def audit_mismatches(
    expected: dict[str, int], heads: dict[str, int | None], changed: set[str]
) -> list[dict[str, Any]]:
    """What keeps a branch from being published as audited: a table named in
    ``expected`` whose branch head differs (or that is not on the branch), or a table the
    branch changed that ``expected`` does not name (written but never judged)."""
    judged = {t: heads.get(t) for t in set(heads) if t in expected or t in changed}
    return mismatches(expected, judged)


def check_resumable(plan: Plan | None, expected: dict[str, int], state: Path | None) -> None:
    """A resumed plan must be the publish of the same expected snapshots."""
    if plan is not None and plan.extra.get("expected") != expected:
        raise WapRefused(
            f"state file {state} publishes {plan.extra.get('expected')}, not {expected}: "
            "give the state file of this publish (or a new path)"
        )


@dataclass
class Step:
    """Move the published ref of ``table`` from ``base`` to ``target``."""

    table: str
    base: int | None
    target: int
    result: str = PENDING

    def classify(self, current: int | None) -> str:
        """What the step is, given the table's published snapshot now."""
        if current == self.target:
            return ALREADY_APPLIED
        if current == self.base:
            return PENDING
        return CONFLICT


@dataclass
class Plan:
    """An ordered, resumable list of steps, saved to ``path`` (if any) as it goes."""

    operation: str  # publish | rollback
    branch: str | None
    namespace: str
    steps: list[Step]
    path: Path | None = None
    resumed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def targets(self) -> dict[str, int]:
        return {s.table: s.target for s in self.steps}

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "operation": self.operation,
            "branch": self.branch,
            "namespace": self.namespace,
            "steps": [asdict(s) for s in self.steps],
            **self.extra,
        }

    def save(self) -> None:
        """Write the state file atomically (a crash leaves the old or the new one)."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(self.to_json(), out, indent=2)
                out.write("\n")
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path, operation: str, branch: str | None, namespace: str) -> Plan | None:
        """The plan saved at ``path``, or None when there is none yet.

        A state file of another operation, branch or namespace is refused: resuming it
        would apply someone else's plan.
        """
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            steps = [
                Step(s["table"], s["base"], int(s["target"]), s.get("result", PENDING))
                for s in data["steps"]
            ]
            found = (data["operation"], data["branch"], data["namespace"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise WapError(f"state file {path} is not a plan this tool wrote: {exc}") from None
        if data.get("schema_version") != SCHEMA_VERSION:
            raise WapError(f"state file {path}: schema_version {data.get('schema_version')!r}")
        if found != (operation, branch, namespace):
            raise WapRefused(
                f"state file {path} holds the {found[0]} of branch {found[1]!r} in namespace "
                f"{found[2]!r}, not the {operation} of {branch!r} in {namespace!r}: give the "
                "state file of this operation (or a new path)"
            )
        extra = {
            k: v for k, v in data.items() if k not in {*Plan.__dataclass_fields__, "schema_version"}
        }
        return cls(operation, branch, namespace, steps, path, resumed=True, extra=extra)
