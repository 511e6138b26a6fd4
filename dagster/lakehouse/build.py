"""Assembles the Definitions for one environment's Settings (no environment access)."""

from __future__ import annotations

from dagster import Definitions

from lakehouse.assets import ALL_ASSETS
from lakehouse.config import Settings
from lakehouse.jobs import build_schedules, customer_dim_job, daily_events_job
from lakehouse.resources import build_resources
from lakehouse.sensors import build_run_failure_alert_sensor, build_schema_drift_sensor


def build_definitions(settings: Settings) -> Definitions:
    deployed = settings.environment in {"staging", "prod"}
    return Definitions(
        assets=ALL_ASSETS,
        jobs=[customer_dim_job, daily_events_job],
        schedules=build_schedules(running=deployed),
        sensors=[
            build_run_failure_alert_sensor(settings.alerting_enabled),
            build_schema_drift_sensor(running=deployed),
        ],
        resources=build_resources(settings),
    )
