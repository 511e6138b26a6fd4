"""Catalog access shared by Dagster resources and the quality gate (no Dagster imports)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.exceptions import (
    NamespaceAlreadyExistsError,
    NoSuchTableError,
    TableAlreadyExistsError,
)
from pyiceberg.table import Table

from lakehouse.config import Settings
from lakehouse.tables import CONTRACTS, MASK, TableContract

if TYPE_CHECKING:  # pyarrow is imported where data is read (not by the quality gate)
    import pyarrow as pa


def open_catalog(settings: Settings, **properties: str) -> Catalog:
    """A REST (Nessie ``.../iceberg/<branch>``) or SQL catalog, as the settings say
    (``properties``: pyiceberg catalog properties added to theirs)."""
    return load_catalog(settings.catalog_name, **settings.catalog_properties(), **properties)


def ensure_table(catalog: Catalog, namespace: str, contract: TableContract) -> Table:
    return load_or_create(catalog, namespace, contract)[0]


def load_or_create(catalog: Catalog, namespace: str, contract: TableContract) -> tuple[Table, bool]:
    """The contract's table, created if missing; and whether this call created it."""
    with contextlib.suppress(NamespaceAlreadyExistsError):
        catalog.create_namespace(namespace)
    identifier = contract.identifier(namespace)
    try:
        return catalog.load_table(identifier), False
    except NoSuchTableError:
        pass
    try:
        table = catalog.create_table(
            identifier,
            schema=contract.schema,
            partition_spec=contract.partition_spec,
            sort_order=contract.sort_order,
            properties=contract.properties,
        )
    except TableAlreadyExistsError:  # a concurrent writer created it
        return catalog.load_table(identifier), False
    return table, True


def mask_pii(data: pa.Table, pii_columns: tuple[str, ...]) -> pa.Table:
    """Replace every non-null value of the PII columns by a constant mask.

    Nulls stay null so completeness checks keep their meaning for readers.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    for name in pii_columns:
        if name not in data.column_names:
            continue
        column = data.column(name)
        masked = pc.if_else(
            pc.is_null(column), pa.scalar(None, pa.string()), pa.scalar(MASK, pa.string())
        )
        index = data.column_names.index(name)
        data = data.set_column(index, data.schema.field(index).with_type(pa.string()), masked)
    return data


def read_table(
    catalog: Catalog,
    settings: Settings,
    name: str,
    *,
    row_filter: str | None = None,
    table: Table | None = None,
    snapshot_id: int | None = None,
) -> pa.Table:
    """Read a contract table as Arrow, masking PII unless the access level is ``admin``.

    ``table``: the table already loaded; ``snapshot_id``: the snapshot to read (a
    branch's head) instead of the current one. Raises ``NoSuchTableError`` when the
    table does not exist.
    """
    contract = CONTRACTS[name]
    if table is None:
        table = catalog.load_table(contract.identifier(settings.namespace))
    options: dict = {"snapshot_id": snapshot_id} if snapshot_id is not None else {}
    if row_filter:
        options["row_filter"] = row_filter
    data = table.scan(**options).to_arrow()
    if settings.masks_pii:
        data = mask_pii(data, contract.pii_columns)
    return data
