from __future__ import annotations

from lakehouse import alerting
from lakehouse.quality.report import redact_uri


def test_sns_is_published_when_configured(monkeypatch):
    calls = []
    monkeypatch.setattr(alerting, "publish_sns", lambda *a: calls.append(a))
    result = alerting.send_alert(
        enabled=True,
        subject="s",
        message="m",
        slack_webhook_url=None,
        sns_topic_arn="arn:aws:sns:us-east-1:000000000000:t",
    )
    assert result.delivered == ["sns"] and calls[0][0].endswith(":t")


def test_alert_delivery_failures_are_reported_not_raised():
    result = alerting.send_alert(
        enabled=True,
        subject="s",
        message="m",
        slack_webhook_url="http://127.0.0.1:9/unreachable",
        sns_topic_arn=None,
    )
    assert result.failed == ["slack"] and result.delivered == []


def test_catalog_credentials_are_redacted_in_reports():
    assert redact_uri("postgresql://u:pw@db:5432/cat") == "postgresql://***@db:5432/cat"
    assert redact_uri("http://nessie:19120/iceberg/main") == "http://nessie:19120/iceberg/main"
