"""The deployed read/write path: pyiceberg's REST client, a real REST catalog server, S3.

Apache Iceberg's REST catalog server (tests/iceberg-rest) behind Nessie's URL layout
(tests/nessie_front.py), its tables' files in moto's S3; the project gets exactly the
variables a deployed environment sets (tests/rest_catalog.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dagster import build_sensor_context
from pyiceberg.exceptions import BadRequestError, RESTError
from pyiceberg.types import StringType

from lakehouse.catalog import open_catalog, read_table
from lakehouse.config import Settings
from lakehouse.resources import AlertingResource, build_resources
from lakehouse.sensors import build_schema_drift_sensor
from lakehouse.tables import CONTRACTS, MASK
from tests.conftest import DAYS, materialize_all
from tests.rest_catalog import WAREHOUSE_NAME, RestCatalog
from tests.servers import CREDENTIALS, s3_client
from tests.test_sensors import webhook  # noqa: F401 (fixture)

pytestmark = pytest.mark.rest
EVENTS_PER_DAY = 150


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default AWS chain of a deployed runtime, here its environment variables."""
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)


@pytest.fixture(scope="module")
def rest_lake(rest_catalog: RestCatalog) -> Iterator[dict]:
    """Every asset materialized once through the REST catalog (namespace lakehouse)."""
    env = rest_catalog.env("lakehouse")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in CREDENTIALS.items():
            patch.setenv(key, value)
        results = materialize_all(env)
    yield {"env": env, "results": results}


def test_assets_materialize_through_the_rest_catalog_into_s3(rest_catalog, rest_lake):
    assert all(r.success for r in rest_lake["results"].values())
    # The server itself (not through the front, not a SQL catalog) lists the tables...
    tables = rest_catalog.server_tables("lakehouse")
    assert set(tables) == set(CONTRACTS)
    bucket = rest_catalog.warehouse.removeprefix("s3://").split("/")[0]
    for name, location in tables.items():
        assert location.startswith(f"{rest_catalog.warehouse}/lakehouse/{name}/metadata/")
    # ...and the data files are in the bucket.
    listed = s3_client(rest_catalog.s3_endpoint).list_objects_v2(
        Bucket=bucket, Prefix="warehouse/lakehouse/event_stream/data/"
    )
    assert any(o["Key"].endswith(".parquet") for o in listed.get("Contents", []))
    admin = build_resources(Settings.from_env(rest_lake["env"]))["iceberg"]
    assert admin.read("event_stream").num_rows == len(DAYS) * EVENTS_PER_DAY


def test_the_client_follows_nessies_branch_and_warehouse_prefix(rest_catalog, rest_lake):
    seen = [(method, path) for method, path, _ in rest_catalog.front.requests]
    config = f"/iceberg/main/v1/config?warehouse={WAREHOUSE_NAME}"
    assert ("GET", config) in seen, "the config is fetched at ICEBERG_CATALOG_URI"
    prefix = f"/iceberg/v1/main%7C{WAREHOUSE_NAME}/"
    table_calls = [path for _, path in seen if "/namespaces/lakehouse/tables" in path]
    assert table_calls and all(path.startswith(prefix) for path in table_calls)


def test_a_reader_never_sees_pii_over_rest(rest_lake):
    reader_env = {**rest_lake["env"], "LAKEHOUSE_ACCESS_LEVEL": "reader"}
    reader = build_resources(Settings.from_env(reader_env))["iceberg"]
    settings = Settings.from_env(reader_env)
    catalog = open_catalog(settings)
    for name, contract in CONTRACTS.items():
        via_resource = reader.read(name)
        via_gate_path = read_table(catalog, settings, name)
        assert via_resource.num_rows > 0
        for column in contract.pii_columns:
            for data in (via_resource, via_gate_path):
                assert {v for v in data.column(column).to_pylist() if v} == {MASK}, name
    admin = build_resources(Settings.from_env(rest_lake["env"]))["iceberg"]
    assert MASK not in admin.read("customer_dim").column("email").to_pylist()


def test_the_schema_drift_sensor_alerts_over_rest(rest_catalog, webhook):  # noqa: F811
    url, received = webhook
    env = rest_catalog.env("zzdrift")
    resources = build_resources(Settings.from_env(env))
    for name in CONTRACTS:
        resources["iceberg"].ensure_table(name)
    resources["alerting"] = AlertingResource(
        environment=env["LAKEHOUSE_ENVIRONMENT"], enabled=True, slack_webhook_url=url
    )
    sensor = build_schema_drift_sensor(running=False)

    def tick(cursor: str | None = None) -> tuple[str | None, str | None]:
        result = sensor.evaluate_tick(build_sensor_context(cursor=cursor, resources=resources))
        return result.cursor, result.skip_message

    cursor, message = tick()
    assert message == "no schema drift" and received == []
    table = open_catalog(Settings.from_env(env)).load_table(("zzdrift", "event_stream"))
    with table.update_schema() as update:
        update.add_column("zzdrift_column", StringType())
    _, message = tick(cursor)
    assert "event_stream" in message
    assert len(received) == 1 and "zzdrift_column" in received[0]["text"]
    assert "event_stream" in rest_catalog.server_tables("zzdrift")


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/iceberg/zzbranch", "Named reference 'zzbranch' not found"),
        ("", "no Iceberg REST resource at /v1/config"),  # a bare REST server's layout
    ],
)
def test_a_catalog_path_outside_a_known_branch_is_refused(rest_catalog, path, reason):
    env = rest_catalog.env("zzpath", ICEBERG_CATALOG_URI=rest_catalog.front.base + path)
    with pytest.raises(RESTError, match=reason):
        open_catalog(Settings.from_env(env))


def test_an_unknown_catalog_warehouse_is_refused(rest_catalog):
    env = rest_catalog.env("zzpath", ICEBERG_CATALOG_WAREHOUSE="zznowarehouse")
    with pytest.raises(BadRequestError, match="Warehouse 'zznowarehouse' is not known"):
        open_catalog(Settings.from_env(env))


def test_s3_path_style_false_addresses_the_bucket_virtual_hosted(rest_catalog):
    """moto here understands only path-style requests, like many S3-compatible stores."""
    env = rest_catalog.env("zzvirtual", S3_PATH_STYLE="false")
    iceberg = build_resources(Settings.from_env(env))["iceberg"]
    with pytest.raises(OSError, match="NO_SUCH_BUCKET"):
        iceberg.overwrite("customer_dim", [])
    path_style = build_resources(Settings.from_env({**env, "S3_PATH_STYLE": "true"}))
    path_style["iceberg"].overwrite("customer_dim", [])
    assert "customer_dim" in rest_catalog.server_tables("zzvirtual")
