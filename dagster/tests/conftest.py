from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dagster import DagsterInstance, materialize

PROJECT_DIR = Path(__file__).resolve().parents[1]
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from lakehouse.assets import customer_dim, customer_features, event_stream  # noqa: E402
from lakehouse.config import Settings  # noqa: E402
from lakehouse.resources import build_resources  # noqa: E402

DAYS = ["2026-11-20", "2026-11-21"]
EVENTS_PER_DAY = 150
CUSTOMERS = 40
AS_OF = [datetime(2026, 11, 14, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC)]


def lake_env(root: Path, **overrides: str) -> dict[str, str]:
    """Environment variables for a local SQL catalog (sqlite + files) under ``root``."""
    (root / "warehouse").mkdir(parents=True, exist_ok=True)
    env = {
        "LAKEHOUSE_ENVIRONMENT": "test",
        "LAKEHOUSE_ACCESS_LEVEL": "admin",
        "LAKEHOUSE_ALERTING_ENABLED": "false",
        "ICEBERG_CATALOG_URI": f"sqlite:///{root}/catalog.db",
        "ICEBERG_WAREHOUSE": f"file://{root}/warehouse",
        "LAKEHOUSE_EVENTS_PER_DAY": str(EVENTS_PER_DAY),
        "LAKEHOUSE_CUSTOMERS": str(CUSTOMERS),
    }
    env.update(overrides)
    return env


def dim_config(as_of: datetime) -> dict:
    return {"ops": {"lakehouse__customer_dim": {"config": {"as_of": as_of.isoformat()}}}}


def materialize_all(env: dict[str, str], instance: DagsterInstance | None = None) -> dict:
    """Materialize every asset the way the schedules do; returns results by step."""
    resources = build_resources(Settings.from_env(env))
    instance = instance or DagsterInstance.ephemeral()
    results = {}
    for day in DAYS:
        results[f"events:{day}"] = materialize(
            [event_stream], partition_key=day, resources=resources, instance=instance
        )
    for as_of in AS_OF:
        results[f"dim:{as_of.date()}"] = materialize(
            [customer_dim], resources=resources, instance=instance, run_config=dim_config(as_of)
        )
    results["features"] = materialize(
        [event_stream, customer_dim, customer_features],
        selection=[customer_features],
        partition_key=DAYS[-1],
        resources=resources,
        instance=instance,
    )
    return results


@pytest.fixture(scope="session")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """One fully materialized lakehouse shared by read-only tests."""
    root = tmp_path_factory.mktemp("lake")
    env = lake_env(root)
    results = materialize_all(env)
    yield {"root": root, "env": env, "results": results}


@pytest.fixture
def soda_python() -> str:
    candidate = os.environ.get("LAKEHOUSE_SODA_PYTHON", str(PROJECT_DIR / ".venv-soda/bin/python"))
    if not Path(candidate).exists():
        if os.environ.get("LAKEHOUSE_REQUIRE_SODA") == "1":
            pytest.fail(f"Soda virtualenv missing: {candidate} (run scripts/test.sh)")
        pytest.skip("Soda virtualenv not installed (scripts/test.sh creates .venv-soda)")
    return candidate
