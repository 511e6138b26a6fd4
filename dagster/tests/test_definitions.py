from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lakehouse.build import build_definitions
from lakehouse.config import ConfigError, Settings
from tests.conftest import PROJECT_DIR, lake_env


def test_definitions_validate_cli(tmp_path):
    env = {**os.environ, **lake_env(tmp_path), "DAGSTER_HOME": str(tmp_path)}
    dagster = Path(sys.executable).with_name("dagster")
    proc = subprocess.run(
        [str(dagster), "definitions", "validate", "-m", "lakehouse.definitions"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Validation successful" in proc.stdout + proc.stderr


def test_definitions_content(tmp_path):
    defs = build_definitions(Settings.from_env(lake_env(tmp_path)))
    repo = defs.get_repository_def()
    assert {k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()} == {
        "lakehouse/event_stream",
        "lakehouse/customer_dim",
        "lakehouse/customer_features",
    }
    assert {s.name for s in repo.schedule_defs} == {
        "customer_dim_daily_schedule",
        "daily_events_schedule",
    }
    assert {s.name for s in repo.sensor_defs} == {
        "run_failure_alert",
        "schema_drift",
        "wap_publish_run",
        "wap_discard_failed_run",
        "wap_discard_canceled_run",
    }
    assert set(repo.get_top_level_resources()) >= {"iceberg", "alerting"}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "LAKEHOUSE_ENVIRONMENT"),
        ({"LAKEHOUSE_ENVIRONMENT": "Prod"}, "2-10 characters, lowercase letters and digits"),
        (
            {
                "LAKEHOUSE_ENVIRONMENT": "dev",
                "ICEBERG_CATALOG_URI": "http://nessie:19120/api/v2",
                "ICEBERG_WAREHOUSE": "s3://b/",
            },
            "Iceberg REST",
        ),
        (
            {
                "LAKEHOUSE_ENVIRONMENT": "dev",
                "ICEBERG_CATALOG_URI": "ftp://x",
                "ICEBERG_WAREHOUSE": "s3://b/",
            },
            "catalog type",
        ),
        (
            {
                "LAKEHOUSE_ENVIRONMENT": "dev",
                "LAKEHOUSE_ACCESS_LEVEL": "root",
                "ICEBERG_CATALOG_URI": "sqlite:///x",
                "ICEBERG_WAREHOUSE": "file:///x",
            },
            "ACCESS",
        ),
        (
            {
                "LAKEHOUSE_ENVIRONMENT": "dev",
                "LAKEHOUSE_ALERTING_ENABLED": "false",
                "LAKEHOUSE_DEPLOYED": "false",
                "ICEBERG_CATALOG_URI": "sqlite:///x",
                "ICEBERG_WAREHOUSE": "file:///x",
            },
            "LAKEHOUSE_ACCESS_LEVEL is not set",
        ),
    ],
)
def test_invalid_settings_are_rejected(env, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_rest_catalog_properties():
    settings_env = {
        "LAKEHOUSE_ENVIRONMENT": "dev",
        "LAKEHOUSE_ACCESS_LEVEL": "reader",
        "LAKEHOUSE_ALERTING_ENABLED": "false",
        "LAKEHOUSE_DEPLOYED": "false",
        "ICEBERG_CATALOG_URI": "http://nessie:19120/iceberg/main",
        "ICEBERG_WAREHOUSE": "s3://lakehouse-dev/warehouse",
        "S3_ENDPOINT_URL": "http://s3:8333",
        "S3_PATH_STYLE": "true",
        "ICEBERG_CATALOG_WAREHOUSE": "warehouse",
    }
    settings = Settings.from_env(settings_env)
    props = settings.catalog_properties()
    assert props["type"] == "rest" and props["uri"].endswith("/iceberg/main")
    assert props["s3.endpoint"] == "http://s3:8333"
    assert props["warehouse"] == "warehouse"  # the Nessie warehouse name, not the s3 URI
    assert props["s3.force-virtual-addressing"] == "false"
    virtual = Settings.from_env({**settings_env, "S3_PATH_STYLE": "false"}).catalog_properties()
    assert virtual["s3.force-virtual-addressing"] == "true"


def default_statuses(defs) -> tuple[set[str], set[str], str]:
    """(schedule statuses, schema_drift + schedules, run_failure_alert status) by name."""
    repo = defs.get_repository_def()
    sensors = {s.name: s.default_status.value for s in repo.sensor_defs}
    schedules = {s.default_status.value for s in repo.schedule_defs}
    return schedules, {sensors["schema_drift"]}, sensors["run_failure_alert"]


def committed_environments() -> list[str]:
    return sorted(
        p.name.removeprefix(".env.") for p in PROJECT_DIR.glob(".env.?*") if p.suffix != ".example"
    )


def file_values(environment: str) -> dict[str, str]:
    """The KEY=VALUE lines of a committed env file, read apart from lakehouse.config."""
    lines = (PROJECT_DIR / f".env.{environment}").read_text().split("\n")
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


@pytest.mark.parametrize(
    ("environment", "deployed", "alerting", "access"),
    [
        ("dev", "false", "false", "admin"),
        ("staging", "true", "true", "reader"),
        ("prod", "true", "true", "reader"),
    ],
)
def test_the_committed_env_files_follow_the_guide(environment, deployed, alerting, access):
    values = file_values(environment)
    keys = ("LAKEHOUSE_DEPLOYED", "LAKEHOUSE_ALERTING_ENABLED", "LAKEHOUSE_ACCESS_LEVEL")
    assert tuple(values[k] for k in keys) == (deployed, alerting, access)


@pytest.mark.parametrize("environment", committed_environments())
def test_definitions_load_from_each_env_file(environment):
    """Every committed .env.<env> file loads as-is (no catalog connection at load time), and
    its switches decide what starts running."""
    values = file_values(environment)
    deployed = values["LAKEHOUSE_DEPLOYED"] == "true"
    alerting = values["LAKEHOUSE_ALERTING_ENABLED"] == "true"
    access = values["LAKEHOUSE_ACCESS_LEVEL"]
    settings = Settings.for_environment(environment, environ={})
    assert (settings.deployed, settings.alerting_enabled) == (deployed, alerting)
    defs = build_definitions(settings)
    schedules, drift, alert = default_statuses(defs)
    running = "RUNNING" if deployed else "STOPPED"
    assert (schedules, drift) == ({running}, {running})
    assert alert == ("RUNNING" if alerting else "STOPPED")
    assert defs.resources["iceberg"].access_level == access


@pytest.mark.parametrize("deployed", ["true", "false"])
def test_lakehouse_deployed_alone_decides_whether_schedules_run(tmp_path, deployed):
    """Not the environment's name: a dev-named environment marked deployed runs them."""
    env = lake_env(tmp_path, LAKEHOUSE_ENVIRONMENT="dev", LAKEHOUSE_DEPLOYED=deployed)
    schedules, drift, alert = default_statuses(build_definitions(Settings.from_env(env)))
    running = "RUNNING" if deployed == "true" else "STOPPED"
    assert (schedules, drift, alert) == ({running}, {running}, "STOPPED")
