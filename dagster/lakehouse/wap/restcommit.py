"""Several tables' refs moved in one REST request: ``POST /v1/{prefix}/transactions/commit``.

pyiceberg 0.12 has no API for it (its transactions are single-table), so the request
is built from pyiceberg's own models and sent over the catalog's own HTTP session, so
that it carries the same authentication and prefix as every other catalog call. This
is the only module that touches the REST catalog's private members.

The Iceberg REST spec makes the commit atomic. Apache Iceberg's reference server
(1.10, the tests' server) checks every table's requirements before writing anything,
but then commits table by table: a failed requirement publishes nothing, a failure in
the middle of the commits could leave earlier tables moved. The plan's state file
covers that case (a resumed plan finds those tables at their target).
"""

from __future__ import annotations

import json

from pyiceberg.catalog import Catalog
from pyiceberg.catalog.rest import Endpoint, HttpMethod, RestCatalog
from pyiceberg.catalog.rest.response import _handle_non_200_response
from pyiceberg.exceptions import CommitFailedException, CommitStateUnknownException
from pyiceberg.table import CommitTableRequest, TableIdentifier
from pyiceberg.table.refs import SnapshotRefType
from pyiceberg.table.update import (
    AssertRefSnapshotId,
    RemoveSnapshotRefUpdate,
    SetSnapshotRefUpdate,
)
from requests import HTTPError

COMMIT_TRANSACTION = Endpoint(http_method=HttpMethod.POST, path="/v1/{prefix}/transactions/commit")


def supports_multi_table_commit(catalog: Catalog) -> bool:
    """Whether the catalog advertised the multi-table commit in its /v1/config."""
    return isinstance(catalog, RestCatalog) and COMMIT_TRANSACTION in catalog._supported_endpoints


def commit_refs(
    catalog: Catalog,
    namespace: str,
    changes: list[tuple[str, dict[str, int | None], dict[str, int], list[str]]],
) -> None:
    """For every (table, required, set, remove): in one request, check that each
    ``required`` ref holds its snapshot id (None: must not exist), point each ``set`` ref
    (a branch) at its snapshot and remove the ``remove`` refs.

    Raises CommitFailedException when any requirement fails (nothing was committed).
    """
    assert isinstance(catalog, RestCatalog)
    body = []
    for table, required, refs, remove in changes:
        updates: list[SetSnapshotRefUpdate | RemoveSnapshotRefUpdate] = [
            SetSnapshotRefUpdate(ref_name=ref, type=SnapshotRefType.BRANCH, snapshot_id=target)
            for ref, target in refs.items()
        ]
        updates += [RemoveSnapshotRefUpdate(ref_name=ref) for ref in remove]
        request = CommitTableRequest(
            identifier=TableIdentifier(namespace=[namespace], name=table),
            requirements=tuple(
                AssertRefSnapshotId(ref=ref, snapshot_id=snapshot_id)
                for ref, snapshot_id in required.items()
            ),
            updates=tuple(updates),
        )
        body.append(json.loads(request.model_dump_json()))
    response = catalog._session.post(
        catalog.url("transactions/commit"),
        data=json.dumps({"table-changes": body}).encode(),
        headers=catalog._session.headers,
    )
    try:
        response.raise_for_status()
    except HTTPError as exc:
        _handle_non_200_response(
            exc,
            {
                409: CommitFailedException,
                500: CommitStateUnknownException,
                502: CommitStateUnknownException,
                504: CommitStateUnknownException,
            },
        )
