"""Runs of the deployed Dagster write to run-<run id>; the sensors publish or discard it.

Real runs (dagster.materialize) on the SQL catalog; the sensors are evaluated with
Dagster's test context for the run's own status event.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from dagster import (
    DagsterEventType,
    DagsterInstance,
    build_run_status_sensor_context,
    materialize,
)

from lakehouse.assets import event_stream
from lakehouse.build import build_definitions
from lakehouse.config import Settings
from lakehouse.resources import AlertingResource, build_resources
from lakehouse.synthetic import events_for_day
from lakehouse.wap import open_versioning
from lakehouse.wap.runs import build_run_branch_sensors, run_branch
from tests.conftest import lake_env
from tests.test_sensors import webhook  # noqa: F401 (fixture)
from tests.wap_lake import AUDIT_DAY, main_ids, published_lake, reader_view

SENSORS = {s.name: s for s in build_run_branch_sensors(enabled=True)}


@pytest.fixture
def lake(tmp_path):
    settings = published_lake(lake_env(tmp_path))
    return {
        "settings": settings,
        "branching": replace(settings, run_branches=True),
        "main": main_ids(settings),
        "before": reader_view(settings),
        "instance": DagsterInstance.ephemeral(),
    }


def run_events(lake, resources=None):
    """One scheduled-like run of event_stream for the next day, writing to its branch."""
    result = materialize(
        [event_stream],
        partition_key=AUDIT_DAY,
        resources=resources or build_resources(lake["branching"]),
        instance=lake["instance"],
        raise_on_error=False,
    )
    return result


def evaluate(lake, sensor_name, result, event_type, alerting=None):
    instance = lake["instance"]
    record = instance.get_records_for_run(result.run_id, of_type=event_type).records[0]
    context = build_run_status_sensor_context(
        sensor_name=sensor_name,
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(result.run_id),
        dagster_event=record.event_log_entry.dagster_event,
        resources={
            "iceberg": build_resources(lake["settings"])["iceberg"],
            "alerting": alerting or build_resources(lake["settings"])["alerting"],
        },
    )
    if event_type == DagsterEventType.RUN_FAILURE:
        context = context.for_run_failure()
    return SENSORS[sensor_name](context)


def test_a_run_writes_to_its_branch_and_a_pass_publishes_it(lake):
    result = run_events(lake)
    assert result.success
    branch = run_branch(result.run_id)
    wap = open_versioning(lake["settings"])
    assert wap.exists(branch)
    assert main_ids(lake["settings"]) == lake["main"], "nothing visible before the sensor"
    assert reader_view(lake["settings"]) == lake["before"]
    head = wap.head(branch).tables
    outcome = evaluate(lake, "wap_publish_run", result, DagsterEventType.RUN_SUCCESS)
    assert f"published {branch}" in outcome.skip_message
    assert main_ids(lake["settings"])["event_stream"] == head["event_stream"]
    assert main_ids(lake["settings"])["customer_dim"] == lake["main"]["customer_dim"]
    assert not wap.exists(branch)


def test_a_failed_blocking_check_keeps_the_rows_out_and_the_branch_is_discarded(lake, monkeypatch):
    def duplicated(*args, **kwargs):
        rows = events_for_day(*args, **kwargs)
        return rows + rows[:3]

    monkeypatch.setattr("lakehouse.assets.events.events_for_day", duplicated)
    result = run_events(lake)
    assert not result.success, "event_ids_unique_in_partition is blocking"
    branch = run_branch(result.run_id)
    wap = open_versioning(lake["settings"])
    assert wap.exists(branch), "the rows were written, to the branch"
    assert reader_view(lake["settings"]) == lake["before"], "no reader saw them"
    outcome = evaluate(lake, "wap_discard_failed_run", result, DagsterEventType.RUN_FAILURE)
    assert f"discarded {branch}" in outcome.skip_message
    assert not wap.exists(branch)
    assert main_ids(lake["settings"]) == lake["main"]
    assert reader_view(lake["settings"]) == lake["before"]


def test_a_canceled_run_is_discarded(lake):
    result = run_events(lake)
    branch = run_branch(result.run_id)
    run = lake["instance"].get_run_by_id(result.run_id)
    lake["instance"].report_run_canceled(run, message="canceled by a test")
    outcome = evaluate(lake, "wap_discard_canceled_run", result, DagsterEventType.RUN_CANCELED)
    assert f"discarded {branch}" in outcome.skip_message
    assert main_ids(lake["settings"]) == lake["main"]


def test_a_run_whose_blocking_check_failed_is_never_published(lake, monkeypatch):
    """Belt and braces: even reported as a success, a failed blocking check publishes nothing."""
    result = run_events(lake)
    branch = run_branch(result.run_id)
    monkeypatch.setattr(
        "lakehouse.wap.runs.failed_blocking_checks", lambda instance, run_id: ["zz: check"]
    )
    outcome = evaluate(lake, "wap_publish_run", result, DagsterEventType.RUN_SUCCESS)
    assert "blocking checks failed (zz: check)" in outcome.skip_message
    assert main_ids(lake["settings"]) == lake["main"]
    assert not open_versioning(lake["settings"]).exists(branch)


def test_a_refused_publish_keeps_the_branch_and_alerts(lake, webhook):  # noqa: F811
    url, received = webhook
    result = run_events(lake)
    branch = run_branch(result.run_id)
    # Meanwhile a run without branches wrote the same partition straight to main.
    assert run_events(lake, build_resources(lake["settings"])).success
    moved = main_ids(lake["settings"])
    alerting = AlertingResource(environment="zzfixture", enabled=True, slack_webhook_url=url)
    outcome = evaluate(lake, "wap_publish_run", result, DagsterEventType.RUN_SUCCESS, alerting)
    assert "was not published" in outcome.skip_message
    assert main_ids(lake["settings"]) == moved
    assert open_versioning(lake["settings"]).exists(branch)
    assert len(received) == 1 and result.run_id in received[0]["text"]


def test_the_sensors_run_where_runs_write_to_branches(tmp_path):
    for value, status in (("true", "RUNNING"), ("false", "STOPPED")):
        env = lake_env(tmp_path, LAKEHOUSE_RUN_BRANCHES=value)
        sensors = {s.name: s for s in build_definitions(Settings.from_env(env)).sensors or []}
        for name in SENSORS:
            assert sensors[name].default_status.value == status, (name, value)
    deployed = lake_env(tmp_path, LAKEHOUSE_DEPLOYED="true")
    assert Settings.from_env(deployed).run_branches, "deployed environments branch their runs"
