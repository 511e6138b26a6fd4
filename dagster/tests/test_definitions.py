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
    assert {s.name for s in repo.sensor_defs} == {"run_failure_alert", "schema_drift"}
    assert set(repo.get_top_level_resources()) >= {"iceberg", "alerting"}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "LAKEHOUSE_ENVIRONMENT"),
        ({"LAKEHOUSE_ENVIRONMENT": "qa"}, "must be one of"),
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
    ],
)
def test_invalid_settings_are_rejected(env, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_rest_catalog_properties():
    settings = Settings.from_env(
        {
            "LAKEHOUSE_ENVIRONMENT": "dev",
            "ICEBERG_CATALOG_URI": "http://nessie:19120/iceberg/main",
            "ICEBERG_WAREHOUSE": "s3://lakehouse-dev/warehouse",
            "S3_ENDPOINT_URL": "http://s3:8333",
            "S3_PATH_STYLE": "true",
            "ICEBERG_CATALOG_WAREHOUSE": "warehouse",
        }
    )
    props = settings.catalog_properties()
    assert props["type"] == "rest" and props["uri"].endswith("/iceberg/main")
    assert props["s3.endpoint"] == "http://s3:8333"
    assert props["warehouse"] == "warehouse"  # the Nessie warehouse name, not the s3 URI
    assert settings.access_level == "reader"  # least privilege by default
    assert not settings.alerting_enabled


@pytest.mark.parametrize(
    ("environment", "running"), [("dev", False), ("staging", True), ("prod", True)]
)
def test_definitions_load_from_each_env_file(environment, running):
    """The committed .env.<env> files load as-is (no catalog connection at load time)."""
    from dagster import DefaultScheduleStatus, DefaultSensorStatus

    defs = build_definitions(Settings.for_environment(environment, environ={}))
    repo = defs.get_repository_def()
    sensors = {s.name: s.default_status for s in repo.sensor_defs}
    expected = DefaultSensorStatus.RUNNING if running else DefaultSensorStatus.STOPPED
    assert sensors["run_failure_alert"] == expected  # alerting on in staging/prod only
    schedule_status = {s.default_status for s in repo.schedule_defs}
    assert schedule_status == {
        DefaultScheduleStatus.RUNNING if running else DefaultScheduleStatus.STOPPED
    }
    resource = defs.resources["iceberg"]
    assert resource.access_level == ("admin" if environment == "dev" else "reader")
