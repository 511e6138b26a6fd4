"""The object-storage path: Iceberg data and metadata on an S3-compatible endpoint.

A moto S3 server on 127.0.0.1 stands in for SeaweedFS / AWS S3; the settings come from
the same variables the .env files set (S3_ENDPOINT_URL, S3_PATH_STYLE, AWS_*).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import botocore.session
import pytest

from lakehouse.config import Settings
from lakehouse.resources import build_resources
from lakehouse.tables import MASK
from tests.conftest import EVENTS_PER_DAY, materialize_all
from tests.test_gate import run_gate

BUCKET = "lakehouse-test"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        client = botocore.session.get_session().create_client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                client.create_bucket(Bucket=BUCKET)
                break
            except Exception:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


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
