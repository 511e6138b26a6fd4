"""The gate's read path against object storage (moto's S3 server on 127.0.0.1)."""

from __future__ import annotations

from lakehouse.tables import MASK
from tests.conftest import EVENTS_PER_DAY, materialize_all
from tests.test_gate import run_gate
from tests.test_gate_incremental import NEW_DAY, events_day, tables
from tests.test_gate_stream import pii_in_snapshot
from tests.test_s3_storage import BUCKET, s3_endpoint  # noqa: F401 (fixture)

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}


def test_an_incremental_reader_gate_on_s3(s3_endpoint, tmp_path, soda_python, monkeypatch):  # noqa: F811
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    env = {
        "LAKEHOUSE_ENVIRONMENT": "zzfixture",
        "LAKEHOUSE_ACCESS_LEVEL": "reader",
        "LAKEHOUSE_ALERTING_ENABLED": "false",
        "LAKEHOUSE_DEPLOYED": "false",
        "ICEBERG_CATALOG_URI": f"sqlite:///{tmp_path}/catalog.db",
        "ICEBERG_WAREHOUSE": f"s3://{BUCKET}/gate-s3",
        "S3_ENDPOINT_URL": s3_endpoint,
        "S3_PATH_STYLE": "true",
        "AWS_REGION": "us-east-1",
        "LAKEHOUSE_EVENTS_PER_DAY": str(EVENTS_PER_DAY),
        "LAKEHOUSE_CUSTOMERS": "40",
    }
    materialize_all(env)
    code, first, _ = run_gate(soda_python, env, tmp_path, process=CREDENTIALS)
    assert (code, first["access_level"]) == (0, "reader")
    snapshot = tmp_path / "project" / ".soda" / "zzfixture" / "lakehouse.duckdb"
    for column, values in pii_in_snapshot(soda_python, snapshot).items():
        assert values - {None} == {MASK}, f"{column} leaked to the snapshot"
    events_day(env, NEW_DAY)
    code, report, markdown = run_gate(
        soda_python, env, tmp_path, "--incremental", process=CREDENTIALS
    )
    assert (code, report["mode"]) == (0, "incremental"), markdown
    events = tables(report)["event_stream"]
    assert (events["mode"], events["row_count"]) == ("incremental", EVENTS_PER_DAY)
    assert events["base_snapshot_id"] == tables(first)["event_stream"]["snapshot_id"]
