from dagster import (
    DefaultSensorStatus,
    RunFailureSensorContext,
    SensorDefinition,
    SkipReason,
    run_failure_sensor,
)

from lakehouse.resources.alerting import AlertingResource


def failure_message(context: RunFailureSensorContext) -> tuple[str, str]:
    run = context.dagster_run
    error = context.failure_event.message or "no error message"
    steps = [e.step_key for e in context.get_step_failure_events() if e.step_key]
    subject = f"Run failed: {run.job_name}"
    lines = [
        f"job: {run.job_name}",
        f"run_id: {run.run_id}",
        f"failed steps: {', '.join(steps) or 'n/a'}",
        f"partition: {run.tags.get('dagster/partition', 'n/a')}",
        f"error: {error}",
    ]
    return subject, "\n".join(lines)


def build_run_failure_alert_sensor(alerting_enabled: bool) -> SensorDefinition:
    """Post failed runs to Slack/SNS. Running by default only where alerting is on."""

    @run_failure_sensor(
        name="run_failure_alert",
        description="Sends an alert to the configured Slack webhook / SNS topic on run failure.",
        default_status=(
            DefaultSensorStatus.RUNNING if alerting_enabled else DefaultSensorStatus.STOPPED
        ),
        minimum_interval_seconds=30,
    )
    def run_failure_alert(context: RunFailureSensorContext, alerting: AlertingResource):
        if not alerting.enabled:
            return SkipReason("alerting disabled for this environment")
        subject, message = failure_message(context)
        result = alerting.send(subject, message)
        context.log.info(f"alert delivered={result.delivered} failed={result.failed}")
        return None

    return run_failure_alert
