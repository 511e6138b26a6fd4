"""A small lakehouse to branch, publish and roll back: the assets write it, as deployed.

``published_lake`` writes the published state (event_stream for one day, customer_dim
once); ``write_on_branch`` runs the same assets for the next day with the writes going
to a branch. ``reader_view`` is what a reader of the published state sees: every table
read through the resource (PII masked as configured), sorted, so two views compare
equal exactly when a reader's query results are the same.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
from dagster import DagsterInstance, materialize

from lakehouse.assets import customer_dim, event_stream
from lakehouse.catalog import open_catalog
from lakehouse.config import Settings
from lakehouse.resources import build_resources
from lakehouse.wap import open_versioning
from tests.conftest import dim_config

BASE_DAY, AUDIT_DAY = "2026-11-20", "2026-11-21"
BASE_AS_OF, AUDIT_AS_OF = datetime(2026, 11, 14, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC)
TABLES = ("customer_dim", "event_stream")


def settings_of(env: dict[str, str], **overrides: Any) -> Settings:
    return replace(Settings.from_env(env), **overrides)


def materialize_day(settings: Settings, day: str, as_of: datetime) -> None:
    resources = build_resources(settings)
    instance = DagsterInstance.ephemeral()
    for result in (
        materialize([event_stream], partition_key=day, resources=resources, instance=instance),
        materialize(
            [customer_dim], resources=resources, instance=instance, run_config=dim_config(as_of)
        ),
    ):
        assert result.success


def published_lake(env: dict[str, str]) -> Settings:
    settings = settings_of(env)
    materialize_day(settings, BASE_DAY, BASE_AS_OF)
    return settings


def write_on_branch(settings: Settings, branch: str) -> None:
    materialize_day(settings_of_branch(settings, branch), AUDIT_DAY, AUDIT_AS_OF)


def settings_of_branch(settings: Settings, branch: str) -> Settings:
    return replace(settings, write_branch=branch)


def main_ids(settings: Settings) -> dict[str, int | None]:
    return open_versioning(settings).head("main").tables


def reader_view(settings: Settings) -> dict[str, list[dict]]:
    """Every table as a reader of the published state reads it, rows sorted."""
    published = replace(settings, write_branch=None, run_branches=False)
    reader = build_resources(published)["iceberg"]
    view = {}
    for name in open_catalog(settings).list_tables(settings.namespace):
        data: pa.Table = reader.read(name[-1])
        view[name[-1]] = sorted(data.to_pylist(), key=repr)
    return view


def materialize_features(settings: Settings, day: str = AUDIT_DAY) -> None:
    from lakehouse.assets import customer_features

    result = materialize(
        [event_stream, customer_dim, customer_features],
        selection=[customer_features],
        partition_key=day,
        resources=build_resources(settings),
        instance=DagsterInstance.ephemeral(),
    )
    assert result.success
