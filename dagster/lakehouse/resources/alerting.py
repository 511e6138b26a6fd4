from dagster import ConfigurableResource

from lakehouse.alerting import AlertResult, send_alert
from lakehouse.config import Settings


class AlertingResource(ConfigurableResource):
    """Run-failure and drift alerts; a no-op unless the environment enables alerting."""

    environment: str
    enabled: bool = False
    slack_webhook_url: str | None = None
    sns_topic_arn: str | None = None
    region: str = "us-east-1"

    @classmethod
    def from_settings(cls, settings: Settings) -> "AlertingResource":
        return cls(
            environment=settings.environment,
            enabled=settings.alerting_enabled,
            slack_webhook_url=settings.slack_webhook_url,
            sns_topic_arn=settings.sns_topic_arn,
            region=settings.s3_region,
        )

    def send(self, subject: str, message: str) -> AlertResult:
        return send_alert(
            enabled=self.enabled,
            subject=f"[lakehouse-{self.environment}] {subject}",
            message=message,
            slack_webhook_url=self.slack_webhook_url,
            sns_topic_arn=self.sns_topic_arn,
            region=self.region,
        )
