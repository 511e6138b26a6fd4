"""An Iceberg REST catalog as deployed environments reach it, on 127.0.0.1.

Apache Iceberg's REST catalog server (tests/iceberg-rest/pom.xml) keeps its catalog in a
temporary sqlite file and the tables' files in moto's S3 through S3FileIO; Nessie's URL
layout (tests/nessie_front.py) sits in front of it. The project reaches it through
pyiceberg's REST client with exactly the variables a deployed environment sets.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.nessie_front import NessieFront
from tests.servers import s3_client, start_iceberg_rest

WAREHOUSE_NAME = "zzwarehouse"


# An environment no user would name: the deployed one these servers stand in for.
REST_ENVIRONMENT = "zzrestenv"


@dataclass(frozen=True)
class RestCatalog:
    front: NessieFront
    server_uri: str  # Apache Iceberg's server itself, bypassing the front
    s3_endpoint: str
    warehouse: str  # s3://<bucket>/warehouse

    def env(self, namespace: str, **overrides: str) -> dict[str, str]:
        """A deployed environment's variables (dagster/.env.example), on these servers."""
        env = {
            "LAKEHOUSE_ENVIRONMENT": REST_ENVIRONMENT,
            "LAKEHOUSE_ACCESS_LEVEL": "admin",
            "LAKEHOUSE_ALERTING_ENABLED": "false",
            "LAKEHOUSE_DEPLOYED": "false",
            "ICEBERG_CATALOG_URI": self.front.uri("main"),
            "ICEBERG_CATALOG_TYPE": "rest",
            "ICEBERG_WAREHOUSE": self.warehouse,
            "ICEBERG_CATALOG_WAREHOUSE": WAREHOUSE_NAME,
            "ICEBERG_NAMESPACE": namespace,
            # A host name, as deployed (http://seaweedfs:8333): with an IP address S3
            # clients never try virtual-hosted requests, and S3_PATH_STYLE would not matter.
            "S3_ENDPOINT_URL": self.s3_endpoint.replace("//127.0.0.1:", "//localhost:"),
            "S3_PATH_STYLE": "true",
            "AWS_REGION": "us-east-1",
            "LAKEHOUSE_EVENTS_PER_DAY": "150",
            "LAKEHOUSE_CUSTOMERS": "40",
        }
        env.update(overrides)
        return env

    def server_tables(self, namespace: str) -> dict[str, str]:
        """Tables of ``namespace`` as the server itself lists them: name -> metadata location."""
        tables = {}
        with urllib.request.urlopen(f"{self.server_uri}/v1/namespaces/{namespace}/tables") as r:
            identifiers = json.load(r)["identifiers"]
        for ident in identifiers:
            url = f"{self.server_uri}/v1/namespaces/{namespace}/tables/{ident['name']}"
            with urllib.request.urlopen(url) as r:
                tables[ident["name"]] = json.load(r)["metadata-location"]
        return tables


@contextmanager
def running_rest_catalog(work: Path, s3_endpoint: str) -> Iterator[RestCatalog]:
    """Start the REST server (and its front) on a bucket of its own; stop both after."""
    bucket = f"zzrest-{uuid.uuid4().hex[:12]}"
    s3_client(s3_endpoint).create_bucket(Bucket=bucket)
    warehouse = f"s3://{bucket}/warehouse"
    server, server_uri = start_iceberg_rest(work, s3_endpoint=s3_endpoint, warehouse=warehouse)
    try:
        front = NessieFront(
            backend=server_uri.removeprefix("http://"),
            warehouse_name=WAREHOUSE_NAME,
            warehouse_location=warehouse,
        ).start()
        try:
            yield RestCatalog(front, server_uri, s3_endpoint, warehouse)
        finally:
            front.stop()
    finally:
        server.stop()
