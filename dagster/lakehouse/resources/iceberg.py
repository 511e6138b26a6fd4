import warnings
from typing import Any

import pyarrow as pa
from dagster import ConfigurableResource, InitResourceContext
from pydantic import PrivateAttr
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.expressions import BooleanExpression
from pyiceberg.table import Table

from lakehouse import catalog as cat
from lakehouse.config import Settings
from lakehouse.tables import CONTRACTS
from lakehouse.wap import Versioning, open_versioning
from lakehouse.wap.model import PUBLISHED, RUN_BRANCH_PREFIX


class IcebergResource(ConfigurableResource):
    """Iceberg catalog access with access-level enforcement on every read.

    ``read`` is the only way assets read tables; it masks PII columns unless the
    access level is ``admin``. Raw rows are only used inside write helpers (e.g. the
    SCD2 merge) and never returned.

    Writes go to a branch, never to the published state, when one is set: the
    ``write_branch`` (a release's audit branch, LAKEHOUSE_WRITE_BRANCH), else with
    ``run_branches`` the run's own ``run-<run id>`` (lakehouse.wap.runs publishes it when
    the run's blocking checks passed). Reads then see that branch.
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
    write_branch: str | None = None
    versioning: str = "auto"
    nessie_api_uri: str | None = None
    run_branches: bool = False

    _run_branch: str | None = PrivateAttr(default=None)
    _versioning: Versioning | None = PrivateAttr(default=None)

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
            write_branch=settings.write_branch,
            versioning=settings.versioning,
            nessie_api_uri=settings.nessie_api_uri,
            run_branches=settings.run_branches,
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
            write_branch=self.write_branch,
            versioning=self.versioning,
            nessie_api_uri=self.nessie_api_uri,
            run_branches=self.run_branches,
        )

    def setup_for_execution(self, context: InitResourceContext) -> None:
        run = context.run  # None outside a run (sensors, schedules)
        if self.write_branch is None and self.run_branches and run is not None:
            self._run_branch = f"{RUN_BRANCH_PREFIX}{run.run_id}"
        if self.branch is not None:
            self.branches().ensure_branch(self.branch)

    @property
    def branch(self) -> str | None:
        """The branch this resource writes to and reads from (None: the published state)."""
        return self.write_branch or self._run_branch

    def branches(self) -> Versioning:
        if self._versioning is None:
            self._versioning = open_versioning(self.settings())
        return self._versioning

    def catalog(self) -> Catalog:
        if self.branch is not None:
            return self.branches().write_catalog(self.branch)
        return cat.open_catalog(self.settings())

    def ensure_table(self, name: str) -> Table:
        """The table, created if missing, ready for writes to this resource's branch."""
        table, created = cat.load_or_create(self.catalog(), self.namespace, CONTRACTS[name])
        if self.branch is not None:
            table = self.branches().prepare_write(table, self.branch, created=created)
        return table

    def snapshot_id(self, table: Table) -> int | None:
        """The snapshot of ``table`` this resource's readers see (its branch's head)."""
        if self.branch is not None:
            return self.branches().read_snapshot(table, self.branch)
        snapshot = table.current_snapshot()
        return snapshot.snapshot_id if snapshot else None

    def scan(self, table: Table, **options: Any) -> Any:
        """``table.scan`` at this resource's branch (options: row_filter, selected_fields…)."""
        snapshot_id = self.snapshot_id(table)
        if snapshot_id is not None:
            options["snapshot_id"] = snapshot_id
        return table.scan(**options)

    def arrow_schema(self, name: str) -> pa.Schema:
        return CONTRACTS[name].schema.as_arrow()

    def read(self, name: str, row_filter: str | None = None) -> pa.Table:
        """Read a table for the current access level (PII masked for ``reader``)."""
        catalog = self.catalog()
        table = catalog.load_table(CONTRACTS[name].identifier(self.namespace))
        return cat.read_table(
            catalog,
            self.settings(),
            name,
            row_filter=row_filter,
            table=table,
            snapshot_id=self.snapshot_id(table),
        )

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
        ref = self.branches().write_ref(self.branch) if self.branch else PUBLISHED
        with warnings.catch_warnings():
            # First write of a partition: pyiceberg warns that the delete matched nothing.
            warnings.filterwarnings("ignore", message="Delete operation did not match")
            if where is None:
                table.overwrite(data, branch=ref)
            else:
                table.overwrite(data, overwrite_filter=where, branch=ref)
        return table

    def _read_raw_rows(self, name: str) -> list[dict[str, Any]]:
        """Unmasked rows for write-side merges; never hand these to callers."""
        return self.scan(self.ensure_table(name)).to_arrow().to_pylist()

    def merge_dimension(
        self, name: str, snapshot: list[dict[str, Any]], as_of: Any
    ) -> tuple[Table, dict[str, int], int]:
        from lakehouse.scd2 import merge_scd2

        rows, stats = merge_scd2(self._read_raw_rows(name), snapshot, as_of)
        table = self.overwrite(name, rows)
        return table, stats, len(rows)
