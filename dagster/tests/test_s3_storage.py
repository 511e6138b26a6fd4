"""The object-storage path: Iceberg data and metadata on an S3-compatible endpoint.

A moto S3 server on 127.0.0.1 stands in for SeaweedFS / AWS S3; the settings come from
the same variables the .env files set (S3_ENDPOINT_URL, S3_PATH_STYLE, AWS_*).
"""

from __future__ import annotations

import pytest

from lakehouse.config import Settings
from lakehouse.resources import build_resources
from lakehouse.tables import MASK
from tests.conftest import EVENTS_PER_DAY, materialize_all
from tests.servers import s3_client
from tests.test_gate import run_gate

BUCKET = "lakehouse-test"


@pytest.fixture(scope="module")
def s3_endpoint(s3_server: str) -> str:
    """The session's moto S3 server with this module's bucket."""
    client = s3_client(s3_server)
    if BUCKET not in {b["Name"] for b in client.list_buckets()["Buckets"]}:
        client.create_bucket(Bucket=BUCKET)
    return s3_server


def test_assets_and_gate_on_s3_compatible_storage(s3_endpoint, tmp_path, soda_python, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "fixture")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fixture")
    env = {
        "LAKEHOUSE_ENVIRONMENT": "zzfixture",
        "LAKEHOUSE_ACCESS_LEVEL": "reader",
        "LAKEHOUSE_ALERTING_ENABLED": "false",
        "LAKEHOUSE_DEPLOYED": "false",
        "ICEBERG_CATALOG_URI": f"sqlite:///{tmp_path}/catalog.db",
        "ICEBERG_WAREHOUSE": f"s3://{BUCKET}/warehouse",
        "S3_ENDPOINT_URL": s3_endpoint,
        "S3_PATH_STYLE": "true",
        "AWS_REGION": "us-east-1",
        "LAKEHOUSE_EVENTS_PER_DAY": str(EVENTS_PER_DAY),
        "LAKEHOUSE_CUSTOMERS": "40",
    }
    results = materialize_all(env)
    assert all(r.success for r in results.values())
    iceberg = build_resources(Settings.from_env(env))["iceberg"]
    table = iceberg.catalog().load_table(("lakehouse", "event_stream"))
    assert table.metadata_location.startswith(f"s3://{BUCKET}/warehouse/lakehouse/event_stream/")
    events = iceberg.read("event_stream")
    assert events.num_rows == 2 * EVENTS_PER_DAY
    assert {v for v in events.column("ip_address").to_pylist() if v} == {MASK}
    creds = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
    code, report, _ = run_gate(soda_python, env, tmp_path, process=creds)
    assert (code, report["outcome"]) == (0, "pass")
    assert report["access_level"] == "reader"
