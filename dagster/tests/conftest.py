from __future__ import annotations

import json
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
        "LAKEHOUSE_ENVIRONMENT": "zzfixture",
        "LAKEHOUSE_ACCESS_LEVEL": "admin",
        "LAKEHOUSE_ALERTING_ENABLED": "false",
        "LAKEHOUSE_DEPLOYED": "false",
        "ICEBERG_CATALOG_URI": f"sqlite:///{root}/catalog.db",
        "ICEBERG_WAREHOUSE": f"file://{root}/warehouse",
        "LAKEHOUSE_EVENTS_PER_DAY": str(EVENTS_PER_DAY),
        "LAKEHOUSE_CUSTOMERS": str(CUSTOMERS),
    }
    env.update(overrides)
    return env


# Variables a developer's shell may export that would leak into subprocesses.
_LAKEHOUSE_PREFIXES = ("LAKEHOUSE_", "ICEBERG_", "S3_", "ALERT_", "AWS_", "COMPOSE_")


def process_env(**extra: str) -> dict[str, str]:
    """os.environ without lakehouse variables, plus ``extra`` and the project on the path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_LAKEHOUSE_PREFIXES)}
    env["PYTHONPATH"] = str(PROJECT_DIR)
    env.update(extra)
    return env


def write_env_file(project_dir: Path, env: dict[str, str]) -> Path:
    """Write ``env`` as ``<project_dir>/.env.<LAKEHOUSE_ENVIRONMENT>`` (values quoted)."""
    project_dir.mkdir(parents=True, exist_ok=True)
    path = project_dir / f".env.{env['LAKEHOUSE_ENVIRONMENT']}"
    path.write_text("".join(f"{k}='{v}'\n" for k, v in env.items()), encoding="utf-8")
    return path


def set_key(path: Path, key: str, value: str) -> None:
    """Replace the line ``key=...`` of an env file (it must be there)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    hits = [i for i, line in enumerate(lines) if line.startswith(f"{key}=")]
    assert len(hits) == 1, f"{key} is not set exactly once in {path}"
    lines[hits[0]] = f"{key}={value}"
    path.write_text("\n".join(lines), encoding="utf-8")


def shared_table(name: str) -> dict:
    """A table of cases the Go pipeline runs too (pipelines/environment/testdata)."""
    path = PROJECT_DIR.parent / "pipelines" / "environment" / "testdata" / name
    if not path.exists():
        if (PROJECT_DIR.parent / "go.mod").exists():
            pytest.fail(f"{path} is missing from the repository")
        pytest.skip(f"{path}: the dagster project was copied without the repository")
    return json.loads(path.read_text(encoding="utf-8"))


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


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's S3 server on 127.0.0.1 for the whole session: its endpoint URL."""
    from tests.servers import start_moto

    server, endpoint = start_moto(tmp_path_factory.mktemp("moto"))
    try:
        yield endpoint
    finally:
        server.stop()


@pytest.fixture(scope="session")
def rest_catalog(tmp_path_factory: pytest.TempPathFactory, s3_server: str) -> Iterator:
    """Apache Iceberg's REST catalog server behind Nessie's URL layout, data in moto's S3."""
    from tests.rest_catalog import running_rest_catalog

    with running_rest_catalog(tmp_path_factory.mktemp("iceberg-rest"), s3_server) as catalog:
        yield catalog
