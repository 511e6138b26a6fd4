"""Iceberg table contracts: schema, partition spec, sort order and PII columns.

Pure pyiceberg (no Dagster) so the quality gate and the drift sensor share one source
of truth. Partition specs use one time transform per source column (Iceberg rejects
redundant day+hour partitions on the same column).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyiceberg.partitioning import UNPARTITIONED_PARTITION_SPEC, PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.table.sorting import UNSORTED_SORT_ORDER, SortDirection, SortField, SortOrder
from pyiceberg.transforms import BucketTransform, DayTransform, IdentityTransform
from pyiceberg.types import (
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    LongType,
    NestedField,
    StringType,
    TimestamptzType,
)

MASK = "***MASKED***"


@dataclass(frozen=True)
class TableContract:
    name: str
    schema: Schema
    partition_spec: PartitionSpec
    sort_order: SortOrder
    pii_columns: tuple[str, ...]
    description: str
    properties: dict[str, str] = field(default_factory=dict)

    def identifier(self, namespace: str) -> tuple[str, str]:
        return (namespace, self.name)


_COMMON_PROPS = {
    "write.format.default": "parquet",
    "write.parquet.compression-codec": "zstd",
}

EVENT_STREAM = TableContract(
    name="event_stream",
    description="Append-only clickstream/commerce events, one Dagster partition per UTC day.",
    schema=Schema(
        NestedField(1, "event_id", StringType(), required=True),
        NestedField(2, "event_type", StringType(), required=True),
        NestedField(3, "event_ts", TimestamptzType(), required=True),
        NestedField(4, "customer_id", StringType(), required=True),
        NestedField(5, "session_id", StringType(), required=True),
        NestedField(6, "user_email", StringType(), required=False),
        NestedField(7, "ip_address", StringType(), required=False),
        NestedField(8, "user_agent", StringType(), required=False),
        NestedField(9, "page_url", StringType(), required=False),
        NestedField(10, "amount", DecimalType(12, 2), required=False),
        NestedField(11, "currency", StringType(), required=False),
        NestedField(12, "ingested_at", TimestamptzType(), required=True),
    ),
    partition_spec=PartitionSpec(
        # day(event_ts) only: adding hour(event_ts) would be a redundant second time
        # transform on the same column, which Iceberg rejects.
        PartitionField(source_id=3, field_id=1000, transform=DayTransform(), name="event_day"),
        PartitionField(
            source_id=4, field_id=1001, transform=BucketTransform(8), name="customer_bucket"
        ),
    ),
    sort_order=SortOrder(SortField(source_id=3, transform=IdentityTransform())),
    pii_columns=("user_email", "ip_address"),
    properties={**_COMMON_PROPS, "history.expire.max-snapshot-age-ms": "604800000"},
)

CUSTOMER_DIM = TableContract(
    name="customer_dim",
    description="Customer dimension, SCD type 2 (one current row per customer_id).",
    schema=Schema(
        NestedField(1, "customer_sk", LongType(), required=True),
        NestedField(2, "customer_id", StringType(), required=True),
        NestedField(3, "full_name", StringType(), required=True),
        NestedField(4, "email", StringType(), required=False),
        NestedField(5, "country", StringType(), required=True),
        NestedField(6, "tier", StringType(), required=True),
        NestedField(7, "status", StringType(), required=True),
        NestedField(8, "record_hash", StringType(), required=True),
        NestedField(9, "effective_from", TimestamptzType(), required=True),
        NestedField(10, "effective_to", TimestamptzType(), required=False),
        NestedField(11, "is_current", BooleanType(), required=True),
        NestedField(12, "updated_at", TimestamptzType(), required=True),
    ),
    # A few thousand rows rewritten as a whole: partitioning would only add small files.
    partition_spec=UNPARTITIONED_PARTITION_SPEC,
    sort_order=SortOrder(
        SortField(source_id=2, transform=IdentityTransform()),
        SortField(source_id=9, transform=IdentityTransform(), direction=SortDirection.DESC),
    ),
    pii_columns=("full_name", "email"),
    properties={**_COMMON_PROPS, "history.expire.max-snapshot-age-ms": "2592000000"},
)

CUSTOMER_FEATURES = TableContract(
    name="customer_features",
    description="Daily per-customer features over a trailing 7-day window (no PII).",
    schema=Schema(
        NestedField(1, "customer_id", StringType(), required=True),
        NestedField(2, "feature_date", DateType(), required=True),
        NestedField(3, "tier", StringType(), required=False),
        NestedField(4, "events_7d", LongType(), required=True),
        NestedField(5, "sessions_7d", LongType(), required=True),
        NestedField(6, "purchases_7d", LongType(), required=True),
        NestedField(7, "revenue_7d", DoubleType(), required=True),
        NestedField(8, "conversion_rate_7d", DoubleType(), required=True),
        NestedField(9, "last_event_ts", TimestamptzType(), required=False),
        NestedField(10, "model_version", StringType(), required=True),
        NestedField(11, "computed_at", TimestamptzType(), required=True),
    ),
    partition_spec=PartitionSpec(
        PartitionField(source_id=2, field_id=1000, transform=DayTransform(), name="feature_day"),
    ),
    sort_order=UNSORTED_SORT_ORDER,
    pii_columns=(),
    properties={**_COMMON_PROPS, "history.expire.max-snapshot-age-ms": "2592000000"},
)

CONTRACTS: dict[str, TableContract] = {
    c.name: c for c in (EVENT_STREAM, CUSTOMER_DIM, CUSTOMER_FEATURES)
}
