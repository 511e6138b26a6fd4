from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from dagster import (
    DagsterEventType,
    DagsterInstance,
    build_run_status_sensor_context,
    build_sensor_context,
    materialize,
)
from pyiceberg.types import StringType

from lakehouse.assets import customer_dim, customer_features, event_stream
from lakehouse.catalog import open_catalog
from lakehouse.config import Settings
from lakehouse.resources import AlertingResource, build_resources
from lakehouse.sensors import build_run_failure_alert_sensor, build_schema_drift_sensor
from tests.conftest import lake_env, materialize_all


class _Hook(BaseHTTPRequestHandler):
    received: list[dict]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        self.server.received.append(json.loads(self.rfile.read(length)))  # type: ignore[attr-defined]
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict]]]:
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", server.received  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


def _failed_run(tmp_path):
    """A real failed run: features cannot be computed when the catalog is unusable."""
    env = lake_env(tmp_path, ICEBERG_CATALOG_URI=f"sqlite:///{tmp_path}/missing/dir/c.db")
    instance = DagsterInstance.ephemeral()
    result = materialize(
        [event_stream, customer_dim, customer_features],
        selection=[customer_features],
        partition_key="2026-11-21",
        resources=build_resources(Settings.from_env(env)),
        instance=instance,
        raise_on_error=False,
    )
    assert not result.success
    records = instance.get_records_for_run(
        result.run_id, of_type=DagsterEventType.RUN_FAILURE
    ).records
    return instance, result.dagster_run, records[0].event_log_entry.dagster_event


@pytest.mark.parametrize("enabled", [True, False])
def test_run_failure_alert_posts_only_when_enabled(tmp_path, webhook, enabled):
    url, received = webhook
    instance, run, event = _failed_run(tmp_path)
    alerting = AlertingResource(environment="prod", enabled=enabled, slack_webhook_url=url)
    sensor = build_run_failure_alert_sensor(alerting_enabled=enabled)
    context = build_run_status_sensor_context(
        sensor_name=sensor.name,
        dagster_instance=instance,
        dagster_run=run,
        dagster_event=event,
        resources={"alerting": alerting},
    ).for_run_failure()
    sensor(context)
    if enabled:
        assert len(received) == 1
        text = received[0]["text"]
        assert "[lakehouse-prod] Run failed" in text
        assert run.run_id in text and "lakehouse__customer_features" in text
    else:
        assert received == []


def test_alerting_settings_follow_the_environment_files(webhook):
    url, received = webhook
    env = {
        "LAKEHOUSE_ENVIRONMENT": "prod",
        "LAKEHOUSE_ACCESS_LEVEL": "reader",
        "LAKEHOUSE_DEPLOYED": "true",
        "ICEBERG_CATALOG_URI": "http://n:19120/iceberg/main",
        "ICEBERG_WAREHOUSE": "s3://b/",
        "LAKEHOUSE_ALERTING_ENABLED": "true",
        "ALERT_SLACK_WEBHOOK_URL": url,
    }
    alerting = build_resources(Settings.from_env(env))["alerting"]
    assert alerting.send("hello", "world").delivered == ["slack"]
    off = build_resources(Settings.from_env({**env, "LAKEHOUSE_ALERTING_ENABLED": "false"}))
    assert off["alerting"].send("hello", "world").delivered == []
    assert len(received) == 1


def test_schema_drift_sensor_alerts_once_per_drift(tmp_path, webhook):
    url, received = webhook
    env = lake_env(tmp_path)
    materialize_all(env)
    resources = build_resources(Settings.from_env(env))
    resources["alerting"] = AlertingResource(
        environment="zzfixture", enabled=True, slack_webhook_url=url
    )
    sensor = build_schema_drift_sensor(running=False)

    def tick(cursor=None):
        ctx = build_sensor_context(cursor=cursor, resources=resources)
        result = sensor.evaluate_tick(ctx)
        return result.cursor, result.skip_message

    cursor, message = tick()
    assert message == "no schema drift" and received == []
    table = open_catalog(Settings.from_env(env)).load_table(("lakehouse", "customer_dim"))
    with table.update_schema() as update:
        update.add_column("loyalty_code", StringType())
    cursor, message = tick(cursor)
    assert "customer_dim" in message
    assert len(received) == 1 and "loyalty_code" in received[0]["text"]
    _, message = tick(cursor)
    assert message == "schema drift unchanged since last alert"
    assert len(received) == 1
