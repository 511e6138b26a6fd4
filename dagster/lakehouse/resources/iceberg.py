import warnings
from typing import Any

import pyarrow as pa
from dagster import ConfigurableResource
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.expressions import BooleanExpression
from pyiceberg.table import Table

from lakehouse import catalog as cat
from lakehouse.config import Settings
from lakehouse.tables import CONTRACTS


class IcebergResource(ConfigurableResource):
    """Iceberg catalog access with access-level enforcement on every read.

    ``read`` is the only way assets read tables; it masks PII columns unless the
    access level is ``admin``. Raw rows are only used inside write helpers (e.g. the
    SCD2 merge) and never returned.
    """

    environment: str
    access_level: str = "reader"
    catalog_uri: str
    warehouse: str
    catalog_type: str
    catalog_name: str = "lakehouse"
    catalog_warehouse: str | None = None
    namespace: str = "lakehouse"
    s3_endpoint: str | None = None
    s3_region: str = "us-east-1"
    s3_path_style: bool = False
    events_per_day: int = 400
    customers: int = 60

    @classmethod
    def from_settings(cls, settings: Settings) -> "IcebergResource":
        return cls(
            environment=settings.environment,
            access_level=settings.access_level,
            catalog_uri=settings.catalog_uri,
            warehouse=settings.warehouse,
            catalog_type=settings.catalog_type,
            catalog_name=settings.catalog_name,
            catalog_warehouse=settings.catalog_warehouse,
            namespace=settings.namespace,
            s3_endpoint=settings.s3_endpoint,
            s3_region=settings.s3_region,
            s3_path_style=settings.s3_path_style,
            events_per_day=settings.events_per_day,
            customers=settings.customers,
        )

    def settings(self) -> Settings:
        return Settings(
            environment=self.environment,
            access_level=self.access_level,
            alerting_enabled=False,
            deployed=False,
            catalog_uri=self.catalog_uri,
            warehouse=self.warehouse,
            catalog_type=self.catalog_type,
            catalog_name=self.catalog_name,
            catalog_warehouse=self.catalog_warehouse,
            namespace=self.namespace,
            s3_endpoint=self.s3_endpoint,
            s3_region=self.s3_region,
            s3_path_style=self.s3_path_style,
            events_per_day=self.events_per_day,
            customers=self.customers,
        )

    def catalog(self) -> Catalog:
        return cat.open_catalog(self.settings())

    def ensure_table(self, name: str) -> Table:
        return cat.ensure_table(self.catalog(), self.namespace, CONTRACTS[name])

    def arrow_schema(self, name: str) -> pa.Schema:
        return CONTRACTS[name].schema.as_arrow()

    def read(self, name: str, row_filter: str | None = None) -> pa.Table:
        """Read a table for the current access level (PII masked for ``reader``)."""
        return cat.read_table(self.catalog(), self.settings(), name, row_filter=row_filter)

    def table_exists(self, name: str) -> bool:
        try:
            self.catalog().load_table(CONTRACTS[name].identifier(self.namespace))
        except NoSuchTableError:
            return False
        return True

    def overwrite(
        self, name: str, rows: list[dict[str, Any]], where: BooleanExpression | None = None
    ) -> Table:
        """Replace the rows matching ``where`` (everything when None) with ``rows``."""
        table = self.ensure_table(name)
        data = pa.Table.from_pylist(rows, schema=self.arrow_schema(name))
        with warnings.catch_warnings():
            # First write of a partition: pyiceberg warns that the delete matched nothing.
            warnings.filterwarnings("ignore", message="Delete operation did not match")
            if where is None:
                table.overwrite(data)
            else:
                table.overwrite(data, overwrite_filter=where)
        return table

    def _read_raw_rows(self, name: str) -> list[dict[str, Any]]:
        """Unmasked rows for write-side merges; never hand these to callers."""
        return self.ensure_table(name).scan().to_arrow().to_pylist()

    def merge_dimension(
        self, name: str, snapshot: list[dict[str, Any]], as_of: Any
    ) -> tuple[Table, dict[str, int], int]:
        from lakehouse.scd2 import merge_scd2

        rows, stats = merge_scd2(self._read_raw_rows(name), snapshot, as_of)
        table = self.overwrite(name, rows)
        return table, stats, len(rows)
