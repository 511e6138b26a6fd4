from collections import Counter
from datetime import UTC, datetime

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    Config,
    MaterializeResult,
    RetryPolicy,
    asset,
)

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
    check_specs=[
        AssetCheckSpec(
            "one_current_version_per_customer",
            asset=["lakehouse", CUSTOMER_DIM.name],
            blocking=True,
        )
    ],
)
def customer_dim(
    context: AssetExecutionContext, config: DimensionConfig, iceberg: IcebergResource
) -> MaterializeResult:
    """Merge today's customer snapshot into the SCD2 dimension (close + insert versions)."""
    as_of = datetime.fromisoformat(config.as_of) if config.as_of else datetime.now(UTC)
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    snapshot = customer_snapshot(as_of.date(), iceberg.customers)
    table, stats, total = iceberg.merge_dimension(CUSTOMER_DIM.name, snapshot, as_of)
    context.log.info(f"SCD2 merge as of {as_of.isoformat()}: {stats}")
    # The rows this run wrote: the head of the resource's branch, when it writes to one.
    current = iceberg.scan(
        table, row_filter="is_current = true", selected_fields=("customer_id",)
    ).to_arrow()
    several = sum(n > 1 for n in Counter(current.column("customer_id").to_pylist()).values())
    return MaterializeResult(
        check_results=[
            AssetCheckResult(
                check_name="one_current_version_per_customer",
                passed=several == 0,
                metadata={"customers_with_several_current_rows": several},
            )
        ],
        metadata={
            "dagster/row_count": total,
            "as_of": as_of.isoformat(),
            **{f"scd2_{k}": v for k, v in stats.items()},
        },
    )
