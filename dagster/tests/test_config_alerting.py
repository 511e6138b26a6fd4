from __future__ import annotations

import pytest

from lakehouse import alerting
from lakehouse.config import ConfigError, Settings, parse_env_file
from lakehouse.quality.report import redact_uri


def test_for_environment_reads_env_file_and_process_env_wins(monkeypatch):
    monkeypatch.delenv("LAKEHOUSE_ENVIRONMENT", raising=False)
    monkeypatch.delenv("ICEBERG_CATALOG_URI", raising=False)
    prod = Settings.for_environment("prod", environ={})
    assert (prod.environment, prod.access_level, prod.alerting_enabled) == ("prod", "reader", True)
    assert prod.catalog_uri.endswith("/iceberg/main")
    override = Settings.for_environment(
        "dev", environ={"ICEBERG_CATALOG_URI": "sqlite:///x.db", "ICEBERG_WAREHOUSE": "file:///x"}
    )
    assert override.catalog_type == "sql" and override.access_level == "admin"


def test_for_environment_rejects_a_mismatched_environment():
    with pytest.raises(ConfigError, match="does not match"):
        Settings.for_environment("prod", environ={"LAKEHOUSE_ENVIRONMENT": "dev"})


def test_parse_env_file_handles_comments_quotes_and_export(tmp_path):
    path = tmp_path / ".env.x"
    path.write_text("# c\n\nexport A=1\nB='two words'\nC=\"x=y\"\nD=\n")
    assert parse_env_file(path) == {"A": "1", "B": "two words", "C": "x=y", "D": ""}
    path.write_text("not a pair\n")
    with pytest.raises(ConfigError):
        parse_env_file(path)


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
