"""Assembles the Definitions for one environment's Settings (no environment access)."""

from __future__ import annotations

from dagster import Definitions

from lakehouse.assets import ALL_ASSETS
from lakehouse.config import Settings
from lakehouse.jobs import build_schedules, customer_dim_job, daily_events_job
from lakehouse.resources import build_resources
from lakehouse.sensors import build_run_failure_alert_sensor, build_schema_drift_sensor
from lakehouse.wap.runs import build_run_branch_sensors


def build_definitions(settings: Settings) -> Definitions:
    # LAKEHOUSE_DEPLOYED: an environment that runs unattended starts its schedules and
    # the drift sensor; others start them stopped (turned on in the UI when wanted).
    return Definitions(
        assets=ALL_ASSETS,
        jobs=[customer_dim_job, daily_events_job],
        schedules=build_schedules(running=settings.deployed),
        sensors=[
            build_run_failure_alert_sensor(settings.alerting_enabled),
            build_schema_drift_sensor(running=settings.deployed),
            # LAKEHOUSE_RUN_BRANCHES: each run writes to run-<run id>; these publish it on
            # success with every blocking check passed, and discard it otherwise.
            *build_run_branch_sensors(settings.run_branches),
        ],
        resources=build_resources(settings),
    )
