"""Scheduled and sensor runs of the deployed Dagster: write to a branch, publish on pass.

With LAKEHOUSE_RUN_BRANCHES=true (default where LAKEHOUSE_DEPLOYED=true) the Iceberg
resource of every run writes to the branch ``run-<run id>`` (resources/iceberg.py), so a
failing blocking asset check stops downstream assets *and* keeps the failed table's rows
out of the published state. Three run-status sensors finish the job:

- ``wap_publish_run`` (run succeeded): publishes the branch when every blocking asset
  check the run evaluated passed (a successful run implies it; checked again from the
  run's events), exactly the tables the run changed;
- ``wap_discard_failed_run`` / ``wap_discard_canceled_run``: remove the branch.

A publish that is refused (the run's table also changed on main since: a conflict)
keeps the branch for a look and sends an alert; the sensor moves on to the next run.
Dagster's sensors keep a cursor, so runs that finished while the daemon was down are
handled when it is back.
"""

from __future__ import annotations

from dagster import (
    DagsterEventType,
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunStatusSensorContext,
    SensorDefinition,
    SkipReason,
    run_failure_sensor,
    run_status_sensor,
)

from lakehouse.resources.alerting import AlertingResource
from lakehouse.resources.iceberg import IcebergResource
from lakehouse.wap.model import RUN_BRANCH_PREFIX, WapError, WapRefused


def run_branch(run_id: str) -> str:
    return f"{RUN_BRANCH_PREFIX}{run_id}"


def failed_blocking_checks(instance: DagsterInstance, run_id: str) -> list[str]:
    """The blocking asset checks the run evaluated and that did not pass."""
    records = instance.get_records_for_run(
        run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    failed = []
    for record in records:
        event = record.event_log_entry.dagster_event
        evaluation = event.event_specific_data if event else None
        if evaluation is not None and evaluation.blocking and not evaluation.passed:
            failed.append(evaluation.asset_check_key.to_user_string())
    return sorted(failed)


def publish_run(
    run: DagsterRun, instance: DagsterInstance, iceberg: IcebergResource, alerting: AlertingResource
) -> str:
    """Publish the run's branch if the run passed; what happened, in one sentence."""
    branch = run_branch(run.run_id)
    wap = iceberg.branches()
    if not wap.exists(branch):
        return f"run {run.run_id} wrote to no branch: nothing to publish"
    if failed := failed_blocking_checks(instance, run.run_id):
        wap.discard(branch)
        return f"run {run.run_id}: blocking checks failed ({', '.join(failed)}): discarded {branch}"
    try:
        result = wap.publish(branch, wap.changed(branch))
    except (WapRefused, WapError) as exc:
        message = f"run {run.run_id} ({run.job_name}) was not published; {branch} kept: {exc}"
        alerting.send(f"Run not published: {run.job_name}", message)
        return message
    moved = ", ".join(f"{s.table}={s.target}" for s in result.plan.steps) or "no table changed"
    return f"run {run.run_id}: published {branch} ({result.method}): {moved}"


def discard_run(run: DagsterRun, iceberg: IcebergResource) -> str:
    branch = run_branch(run.run_id)
    removed = iceberg.branches().discard(branch).removed
    if not removed:
        return f"run {run.run_id} wrote to no branch"
    return f"run {run.run_id} {run.status.value.lower()}: discarded {branch}"


def build_run_branch_sensors(enabled: bool) -> list[SensorDefinition]:
    """The three sensors; RUNNING by default where runs write to branches."""
    status = DefaultSensorStatus.RUNNING if enabled else DefaultSensorStatus.STOPPED

    @run_status_sensor(
        run_status=DagsterRunStatus.SUCCESS,
        name="wap_publish_run",
        description="Publishes a successful run's branch run-<run id> when every blocking "
        "asset check passed (LAKEHOUSE_RUN_BRANCHES).",
        default_status=status,
        minimum_interval_seconds=30,
    )
    def wap_publish_run(
        context: RunStatusSensorContext, iceberg: IcebergResource, alerting: AlertingResource
    ):
        outcome = publish_run(context.dagster_run, context.instance, iceberg, alerting)
        context.log.info(outcome)
        return SkipReason(outcome)

    @run_failure_sensor(
        name="wap_discard_failed_run",
        description="Removes a failed run's branch run-<run id>: nothing of it is published.",
        default_status=status,
        minimum_interval_seconds=30,
    )
    def wap_discard_failed_run(context: RunFailureSensorContext, iceberg: IcebergResource):
        outcome = discard_run(context.dagster_run, iceberg)
        context.log.info(outcome)
        return SkipReason(outcome)

    @run_status_sensor(
        run_status=DagsterRunStatus.CANCELED,
        name="wap_discard_canceled_run",
        description="Removes a canceled run's branch run-<run id>: nothing of it is published.",
        default_status=status,
        minimum_interval_seconds=30,
    )
    def wap_discard_canceled_run(context: RunStatusSensorContext, iceberg: IcebergResource):
        outcome = discard_run(context.dagster_run, iceberg)
        context.log.info(outcome)
        return SkipReason(outcome)

    return [wap_publish_run, wap_discard_failed_run, wap_discard_canceled_run]
