"""Materialize every asset once against the configured catalog and object store.

The smoke run of the pipeline (`dagger call stack … materialize`, `deploy`, `ci`):
unpartitioned assets first, then the partitioned ones for one day (default: yesterday,
UTC, the partition the daily schedule would run). Blocking asset checks run with them.

    python -m lakehouse.smoke [--partition 2026-11-30] [--audit-branch audit-<release id>]

With --audit-branch (or LAKEHOUSE_WRITE_BRANCH) every write goes to that branch, never
to the published state: it is made from the published state unless it exists (the
pipeline makes it first with `python -m lakehouse.wap begin`, which records the base),
and its head is printed at the end for the gate to judge.

Settings come from the process environment, as in the compose services. With
DAGSTER_HOME set, runs are recorded in that instance (the stack's Postgres); otherwise
in an ephemeral one. Exit code 0 when every run and check succeeded, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from dagster import DagsterInstance, materialize

from lakehouse.assets import ALL_ASSETS
from lakehouse.config import ConfigError, Settings, check_branch_name
from lakehouse.resources import build_resources
from lakehouse.wap import WapError, WapRefused, open_versioning


def default_partition(today: date | None = None) -> str:
    """The latest complete day: what the daily schedule materializes."""
    today = today or datetime.now(UTC).date()
    return (today - timedelta(days=1)).isoformat()


def run(settings: Settings, partition: str, instance: DagsterInstance) -> list[tuple[str, bool]]:
    """Materialize each asset group once; returns (group, success) in run order."""
    resources = build_resources(settings)
    plain = [a for a in ALL_ASSETS if a.partitions_def is None]
    partitioned = [a for a in ALL_ASSETS if a.partitions_def is not None]
    results: list[tuple[str, bool]] = []
    if plain:
        res = materialize(plain, resources=resources, instance=instance, raise_on_error=False)
        results.append((", ".join(a.key.to_user_string() for a in plain), res.success))
    if partitioned:
        res = materialize(
            partitioned,
            partition_key=partition,
            resources=resources,
            instance=instance,
            raise_on_error=False,
        )
        names = ", ".join(a.key.to_user_string() for a in partitioned)
        results.append((f"{names} [{partition}]", res.success))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lakehouse.smoke", description=__doc__)
    parser.add_argument("--partition", help="day of the partitioned assets (YYYY-MM-DD)")
    parser.add_argument("--audit-branch", help="write to this branch, not the published state")
    args = parser.parse_args(argv)
    partition = args.partition or default_partition()
    try:
        date.fromisoformat(partition)
    except ValueError:
        print(f"smoke: --partition {partition!r} is not a date (YYYY-MM-DD)", file=sys.stderr)
        return 1
    try:
        settings = Settings.from_env()
        branch = args.audit_branch or settings.write_branch
        if branch is not None:
            check_branch_name(branch, "--audit-branch")
        # The smoke run writes to the audit branch or to the published state, never to
        # run-<run id> branches that nothing would publish.
        settings = replace(settings, write_branch=branch, run_branches=False)
    except ConfigError as exc:
        print(f"smoke: configuration error: {exc}", file=sys.stderr)
        return 1
    name = settings.environment
    if branch is not None:
        try:
            _prepare_branch(settings, branch)
        except (WapRefused, WapError) as exc:
            print(f"smoke: audit branch {branch}: {exc}", file=sys.stderr)
            return 1
    instance = DagsterInstance.get() if _has_dagster_home() else DagsterInstance.ephemeral()
    with instance:
        results = run(settings, partition, instance)
    ok = all(success for _, success in results)
    for label, success in results:
        print(f"smoke {name}: {'ok    ' if success else 'FAILED'} {label}")
    if branch is not None:
        try:
            head = open_versioning(settings).head(branch).to_json()
            print(f"smoke {name}: audit branch {branch} head {json.dumps(head)}")
        except (WapRefused, WapError) as exc:
            print(f"smoke {name}: audit branch {branch}: no head to judge: {exc}", file=sys.stderr)
            ok = False
    print(f"smoke {name}: {'pass' if ok else 'fail'}")
    return 0 if ok else 1


def _prepare_branch(settings: Settings, branch: str) -> None:
    wap = open_versioning(settings)
    name = settings.environment
    if wap.exists(branch):
        print(f"smoke {name}: writing to the existing audit branch {branch}")
        return
    base = wap.begin(branch).to_json()
    print(f"smoke {name}: audit branch {branch} made from {json.dumps(base)}")


def _has_dagster_home() -> bool:
    import os

    return bool(os.environ.get("DAGSTER_HOME"))


if __name__ == "__main__":
    sys.exit(main())
