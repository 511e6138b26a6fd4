"""Jobs and schedules as deployed: dimension first, then the daily event partition."""

from __future__ import annotations

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    ScheduleDefinition,
    build_schedule_from_partitioned_job,
    define_asset_job,
)

from lakehouse.assets import customer_dim, customer_features, event_stream

customer_dim_job = define_asset_job(
    "customer_dim_daily",
    selection=AssetSelection.assets(customer_dim),
    description="SCD2 merge of the customer snapshot.",
)

daily_events_job = define_asset_job(
    "daily_events_and_features",
    selection=AssetSelection.assets(event_stream, customer_features),
    description="Ingest yesterday's events, then recompute that day's features.",
)


def build_schedules(running: bool) -> list:
    status = DefaultScheduleStatus.RUNNING if running else DefaultScheduleStatus.STOPPED
    return [
        ScheduleDefinition(
            name="customer_dim_daily_schedule",
            job=customer_dim_job,
            cron_schedule="15 0 * * *",
            execution_timezone="UTC",
            default_status=status,
        ),
        build_schedule_from_partitioned_job(
            daily_events_job,
            name="daily_events_schedule",
            hour_of_day=1,
            minute_of_hour=0,
            default_status=status,
        ),
    ]
