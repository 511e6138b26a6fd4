from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
from dagster import (
    AssetDep,
    AssetExecutionContext,
    MaterializeResult,
    TimeWindowPartitionMapping,
    asset,
)
from pyiceberg.expressions import EqualTo

from lakehouse.assets.dimensions import customer_dim
from lakehouse.assets.events import event_stream
from lakehouse.assets.partitions import daily_partitions
from lakehouse.resources.iceberg import IcebergResource
from lakehouse.tables import CUSTOMER_FEATURES, EVENT_STREAM

MODEL_VERSION = "customer-activity-v1"
WINDOW_DAYS = 7

_FEATURES_SQL = """
SELECT
    e.customer_id,
    count(*)                                           AS events_7d,
    count(DISTINCT e.session_id)                       AS sessions_7d,
    count(*) FILTER (WHERE e.event_type = 'purchase')  AS purchases_7d,
    coalesce(sum(CAST(e.amount AS DOUBLE)), 0.0)       AS revenue_7d,
    max(e.event_ts)                                    AS last_event_ts,
    any_value(d.tier)                                  AS tier
FROM events AS e
LEFT JOIN dim AS d ON d.customer_id = e.customer_id AND d.is_current
GROUP BY e.customer_id
ORDER BY e.customer_id
"""


def compute_features(events: Any, dim: Any, feature_date: date) -> list[dict[str, Any]]:
    """Aggregate a trailing window of events per customer (Arrow in, rows out)."""
    con = duckdb.connect()
    try:
        con.register("events", events)
        con.register("dim", dim)
        result = con.sql(_FEATURES_SQL).to_arrow_table().to_pylist()
    finally:
        con.close()
    computed_at = datetime.now(UTC)
    rows = []
    for r in result:
        sessions = r["sessions_7d"] or 0
        rows.append(
            {
                **r,
                "feature_date": feature_date,
                "conversion_rate_7d": (r["purchases_7d"] / sessions) if sessions else 0.0,
                "last_event_ts": r["last_event_ts"].astimezone(UTC) if r["last_event_ts"] else None,
                "model_version": MODEL_VERSION,
                "computed_at": computed_at,
            }
        )
    return rows


@asset(
    key_prefix=["lakehouse"],
    name=CUSTOMER_FEATURES.name,
    partitions_def=daily_partitions,
    deps=[
        AssetDep(
            event_stream,
            partition_mapping=TimeWindowPartitionMapping(start_offset=-(WINDOW_DAYS - 1)),
        ),
        customer_dim,
    ],
    group_name="lakehouse",
    kinds={"iceberg", "duckdb"},
    description=CUSTOMER_FEATURES.description,
    tags={"domain": "ml", "pattern": "feature-store"},
)
def customer_features(
    context: AssetExecutionContext, iceberg: IcebergResource
) -> MaterializeResult:
    """Features for ``feature_date`` from events in [date-6d, date] and the current tier."""
    feature_date = date.fromisoformat(context.partition_key)
    start = datetime(feature_date.year, feature_date.month, feature_date.day, tzinfo=UTC)
    start -= timedelta(days=WINDOW_DAYS - 1)
    end = start + timedelta(days=WINDOW_DAYS)
    events = iceberg.read(
        EVENT_STREAM.name,
        row_filter=f"event_ts >= '{start.isoformat()}' AND event_ts < '{end.isoformat()}'",
    )
    dim = iceberg.read("customer_dim", row_filter="is_current = true")
    rows = compute_features(events, dim, feature_date)
    iceberg.overwrite(
        CUSTOMER_FEATURES.name, rows, EqualTo("feature_date", feature_date.isoformat())
    )
    return MaterializeResult(
        metadata={
            "dagster/row_count": len(rows),
            "feature_date": feature_date.isoformat(),
            "window_days": WINDOW_DAYS,
            "source_events": events.num_rows,
            "model_version": MODEL_VERSION,
        }
    )
