from datetime import UTC, date, datetime, timedelta

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    Backoff,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    asset,
)
from pyiceberg.expressions import And, GreaterThanOrEqual, LessThan

from lakehouse.assets.partitions import daily_partitions
from lakehouse.resources.iceberg import IcebergResource
from lakehouse.synthetic import events_for_day
from lakehouse.tables import EVENT_STREAM


@asset(
    key_prefix=["lakehouse"],
    name=EVENT_STREAM.name,
    partitions_def=daily_partitions,
    group_name="lakehouse",
    kinds={"iceberg", "python"},
    description=EVENT_STREAM.description,
    retry_policy=RetryPolicy(max_retries=2, delay=30, backoff=Backoff.EXPONENTIAL),
    tags={"domain": "analytics", "pii": "true"},
    op_tags={"dagster/max_runtime": 3600},
    check_specs=[
        AssetCheckSpec(
            "event_ids_unique_in_partition", asset=["lakehouse", EVENT_STREAM.name], blocking=True
        ),
        AssetCheckSpec(
            "events_inside_partition_window", asset=["lakehouse", EVENT_STREAM.name], blocking=True
        ),
    ],
)
def event_stream(context: AssetExecutionContext, iceberg: IcebergResource) -> MaterializeResult:
    """Ingest one UTC day of events; re-runs replace that day only (idempotent)."""
    day = date.fromisoformat(context.partition_key)
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    end = start + timedelta(days=1)
    rows = events_for_day(day, iceberg.events_per_day, iceberg.customers, datetime.now(UTC))
    where = And(
        GreaterThanOrEqual("event_ts", start.isoformat()), LessThan("event_ts", end.isoformat())
    )
    table = iceberg.overwrite(EVENT_STREAM.name, rows, where)
    snapshot_id = iceberg.snapshot_id(table)
    duplicates = len(rows) - len({r["event_id"] for r in rows})
    outside = sum(not (start <= r["event_ts"] < end) for r in rows)
    return MaterializeResult(
        check_results=[
            AssetCheckResult(
                check_name="event_ids_unique_in_partition",
                passed=duplicates == 0,
                severity=AssetCheckSeverity.ERROR,
                metadata={"duplicates": duplicates},
            ),
            AssetCheckResult(
                check_name="events_inside_partition_window",
                passed=outside == 0,
                severity=AssetCheckSeverity.ERROR,
                metadata={"outside_window": outside},
            ),
        ],
        metadata={
            "dagster/row_count": len(rows),
            "partition_day": day.isoformat(),
            "iceberg_table": ".".join(EVENT_STREAM.identifier(iceberg.namespace)),
            "snapshot_id": str(snapshot_id) if snapshot_id is not None else "",
            "pii_columns": MetadataValue.json(list(EVENT_STREAM.pii_columns)),
        },
    )
