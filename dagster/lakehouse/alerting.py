"""Alert delivery to a Slack-compatible webhook and/or an SNS topic (no Dagster imports)."""

from __future__ import annotations

import json
import logging
import urllib.request
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class AlertResult:
    delivered: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def post_webhook(url: str, subject: str, message: str, timeout: float = 10.0) -> None:
    """POST ``{"text": ...}`` (the Slack incoming-webhook format) to ``url``."""
    if not url.startswith(("https://", "http://")):
        raise ValueError("webhook URL must be http(s)")
    body = json.dumps({"text": f"*{subject}*\n{message}"}).encode()
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        if response.status >= 300:
            raise RuntimeError(f"webhook answered HTTP {response.status}")


def publish_sns(topic_arn: str, subject: str, message: str, region: str) -> None:
    """Publish to SNS with botocore (credentials from the default AWS chain)."""
    import botocore.session  # only needed when SNS is configured

    client = botocore.session.get_session().create_client("sns", region_name=region)
    client.publish(TopicArn=topic_arn, Subject=subject[:100], Message=message)


def send_alert(
    *,
    enabled: bool,
    subject: str,
    message: str,
    slack_webhook_url: str | None,
    sns_topic_arn: str | None,
    region: str = "us-east-1",
) -> AlertResult:
    """Send to every configured channel; failures are logged, never raised."""
    result = AlertResult()
    if not enabled:
        log.info("alerting disabled; not sending %r", subject)
        return result
    if not slack_webhook_url and not sns_topic_arn:
        log.warning("alerting enabled but no channel configured; dropping %r", subject)
    if slack_webhook_url:
        try:
            post_webhook(slack_webhook_url, subject, message)
            result.delivered.append("slack")
        except Exception:
            log.exception("webhook alert failed")
            result.failed.append("slack")
    if sns_topic_arn:
        try:
            publish_sns(sns_topic_arn, subject, message, region)
            result.delivered.append("sns")
        except Exception:
            log.exception("SNS alert failed")
            result.failed.append("sns")
    return result
