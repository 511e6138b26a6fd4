"""Write-audit-publish: writes go to a branch, the branch is audited, a pass publishes it.

Two ways of branching, behind one interface (:class:`~lakehouse.wap.base.Versioning`):

- **Nessie** (deployed environments): Nessie's own catalog-level branches. Nessie 0.106
  refuses Iceberg snapshot refs other than ``main`` and keeps one snapshot per table, so
  table refs cannot work there. A branch is a Nessie branch made from main's hash;
  writers point at ``<nessie>/iceberg/<branch>``; the audit reads a fixed hash
  (``…/iceberg/<branch>@<hash>``); publish is one API v2 merge into main (one commit for
  every table; a conflict publishes nothing); rollback is one API v2 commit putting
  back each table's recorded content.
- **Table refs** (any other Iceberg REST catalog, e.g. Apache's, and SQL catalogs): a
  branch is an Iceberg ref of that name on every table; publish sets each table's
  ``main`` to the audited snapshot (one multi-table commit where advertised, else table
  by table with a resumable state file); rollback sets ``main`` to a recorded snapshot.

The backend is chosen from the catalog itself (Nessie's ``/v1/config`` carries
``nessie.is-nessie-catalog=true``) unless LAKEHOUSE_VERSIONING says which.
"""

from __future__ import annotations

import functools

import requests
from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.table import Table

from lakehouse.catalog import open_catalog
from lakehouse.config import ConfigError, Settings
from lakehouse.wap.base import Versioning
from lakehouse.wap.model import PUBLISHED, Pinned, WapError, WapRefused

__all__ = [
    "PUBLISHED",
    "Pinned",
    "Versioning",
    "WapError",
    "WapRefused",
    "backend_name",
    "load_pinned_table",
    "open_versioning",
    "pinned_catalog",
    "resolve_branch",
]

NESSIE_FLAG = "nessie.is-nessie-catalog"


@functools.cache
def _says_nessie(uri: str, warehouse: str | None) -> bool:
    params = {"warehouse": warehouse} if warehouse else {}
    url = uri.rstrip("/") + "/v1/config"
    try:
        response = requests.get(url, params=params, timeout=30)
        response.raise_for_status()
        config = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise WapError(
            f"cannot ask the catalog which kind it is ({url}: {exc}); set "
            "LAKEHOUSE_VERSIONING=nessie|table-refs to say it"
        ) from None
    props = {**config.get("defaults", {}), **config.get("overrides", {})}
    return str(props.get(NESSIE_FLAG, "")).lower() == "true"


def backend_name(settings: Settings) -> str:
    """``nessie`` or ``table-refs``: LAKEHOUSE_VERSIONING, else what the catalog says."""
    if settings.versioning != "auto":
        if settings.versioning == "nessie" and settings.catalog_type != "rest":
            raise ConfigError(
                "LAKEHOUSE_VERSIONING=nessie needs Nessie's Iceberg REST catalog "
                f"(ICEBERG_CATALOG_URI={settings.catalog_uri!r} is a SQL catalog)"
            )
        return settings.versioning
    if settings.catalog_type != "rest":
        return "table-refs"
    nessie = _says_nessie(settings.catalog_uri, settings.catalog_warehouse)
    return "nessie" if nessie else "table-refs"


def open_versioning(settings: Settings, catalog: Catalog | None = None) -> Versioning:
    """The backend for the settings' catalog (``catalog``: an already open one to reuse)."""
    if backend_name(settings) == "nessie":
        from lakehouse.wap.nessie import NessieBranches

        return NessieBranches(settings)
    from lakehouse.wap.tablerefs import TableRefs

    return TableRefs(settings, catalog)


def resolve_branch(settings: Settings, branch: str) -> Pinned:
    """The tables at ``branch`` now, pinned: table -> snapshot id (Nessie: and the hash).

    What a gate judges: read each table through :func:`load_pinned_table` and the
    reads see exactly these snapshots, whatever is written to the branch meanwhile.
    """
    return open_versioning(settings).head(branch)


def pinned_catalog(settings: Settings, pinned: Pinned) -> Catalog:
    """A catalog whose tables are read at the pinned state."""
    if pinned.hash is not None:  # Nessie: the reference at a fixed commit
        from lakehouse.wap.nessie import catalog_uri_for

        props = settings.catalog_properties()
        uri = catalog_uri_for(settings, f"{pinned.ref}@{pinned.hash}")
        return load_catalog(settings.catalog_name, **{**props, "uri": uri})
    return open_catalog(settings)


def load_pinned_table(settings: Settings, catalog: Catalog, pinned: Pinned, name: str) -> Table:
    """Table ``name`` of the pinned state; scan it with ``snapshot_id=pinned.tables[name]``.

    Raises WapRefused when the catalog does not hold that snapshot (any more).
    """
    if name not in pinned.tables:
        raise WapRefused(f"{name} is not among the pinned tables of {pinned.ref}")
    table = catalog.load_table((settings.namespace, name))
    wanted = pinned.tables[name]
    if wanted is not None and table.snapshot_by_id(wanted) is None:
        raise WapRefused(f"{name}: snapshot {wanted} of {pinned.ref} is not in the table")
    return table
