from datetime import UTC, datetime

from dagster import AssetExecutionContext, Config, MaterializeResult, RetryPolicy, asset

from lakehouse.resources.iceberg import IcebergResource
from lakehouse.synthetic import customer_snapshot
from lakehouse.tables import CUSTOMER_DIM


class DimensionConfig(Config):
    as_of: str | None = None
    """ISO timestamp the source snapshot is taken at; defaults to now (UTC)."""


@asset(
    key_prefix=["lakehouse"],
    name=CUSTOMER_DIM.name,
    group_name="lakehouse",
    kinds={"iceberg", "python"},
    description=CUSTOMER_DIM.description,
    retry_policy=RetryPolicy(max_retries=2, delay=30),
    tags={"domain": "master-data", "pii": "true", "pattern": "scd-type2"},
)
def customer_dim(
    context: AssetExecutionContext, config: DimensionConfig, iceberg: IcebergResource
) -> MaterializeResult:
    """Merge today's customer snapshot into the SCD2 dimension (close + insert versions)."""
    as_of = datetime.fromisoformat(config.as_of) if config.as_of else datetime.now(UTC)
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    snapshot = customer_snapshot(as_of.date(), iceberg.customers)
    _table, stats, total = iceberg.merge_dimension(CUSTOMER_DIM.name, snapshot, as_of)
    context.log.info(f"SCD2 merge as of {as_of.isoformat()}: {stats}")
    return MaterializeResult(
        metadata={
            "dagster/row_count": total,
            "as_of": as_of.isoformat(),
            **{f"scd2_{k}": v for k, v in stats.items()},
        }
    )
