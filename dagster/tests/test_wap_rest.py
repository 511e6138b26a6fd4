"""Write-audit-publish against Apache Iceberg's REST catalog server (table refs), S3 in moto.

Each test has its own namespace on the session's server (tests/rest_catalog.py). The
commands run as the pipeline runs them: their own processes, the environment's variables.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from pyiceberg.types import StringType

from lakehouse.catalog import open_catalog
from lakehouse.config import Settings
from lakehouse.resources import build_resources
from lakehouse.synthetic import events_for_day
from lakehouse.wap import (
    WapError,
    WapRefused,
    backend_name,
    open_versioning,
    resolve_branch,
    restcommit,
)
from lakehouse.wap.model import ALREADY_APPLIED, APPLIED
from lakehouse.wap.tablerefs import TableRefs
from tests.nessie_front import NessieFront
from tests.rest_catalog import WAREHOUSE_NAME
from tests.servers import CREDENTIALS
from tests.test_wap_cli import wap_cli
from tests.test_wap_smoke import head_line, smoke
from tests.wap_lake import (
    AUDIT_AS_OF,
    AUDIT_DAY,
    main_ids,
    materialize_day,
    published_lake,
    reader_view,
    settings_of_branch,
    write_on_branch,
)

pytestmark = pytest.mark.rest
BRANCH = "audit-zzre5t"


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def lake(rest_catalog, request):
    namespace = "zz" + request.node.name.removeprefix("test_")[:24].replace("_", "")
    env = {**rest_catalog.env(namespace), **CREDENTIALS}
    settings = published_lake(env)
    return {"env": env, "settings": settings, "main": main_ids(settings), "ns": namespace}


def test_apaches_server_is_branched_with_table_refs_and_nessie_is_recognised(rest_catalog):
    env = rest_catalog.env("zzdetect")
    assert backend_name(Settings.from_env(env)) == "table-refs"
    marked = NessieFront(
        backend=rest_catalog.front.backend,
        warehouse_name=WAREHOUSE_NAME,
        warehouse_location=rest_catalog.warehouse,
        nessie_marker=True,
    ).start()
    try:
        settings = Settings.from_env({**env, "ICEBERG_CATALOG_URI": marked.uri("main")})
        assert backend_name(settings) == "nessie"
    finally:
        marked.stop()


def test_a_failing_gate_leaves_published_snapshots_and_readers_results_unchanged(lake):
    settings = lake["settings"]
    before = reader_view(settings)
    wap = open_versioning(settings)
    wap.begin(BRANCH)
    # The release writes bad rows (duplicated events) to its audit branch...
    iceberg = build_resources(settings_of_branch(settings, BRANCH))["iceberg"]
    rows = events_for_day(date.fromisoformat(AUDIT_DAY), 50, 40, datetime.now(UTC))
    iceberg.overwrite("event_stream", rows + rows)
    pinned = resolve_branch(settings, BRANCH)
    table = open_catalog(settings).load_table((lake["ns"], "event_stream"))
    judged = table.scan(snapshot_id=pinned.tables["event_stream"]).to_arrow()
    assert judged.num_rows == 100, "the gate reads the branch head: the bad rows"
    # ...the gate fails: nothing is published and the branch is dropped.
    assert wap.discard(BRANCH).removed
    assert main_ids(settings) == lake["main"]
    assert reader_view(settings) == before
    refs = open_catalog(settings).load_table((lake["ns"], "event_stream")).metadata.refs
    assert set(refs) == {"main"}


def test_smoke_then_publish_moves_main_to_exactly_the_audited_snapshots(lake):
    env, settings = lake["env"], lake["settings"]
    before = reader_view(settings)
    code, begun, _ = wap_cli(env, "begin", "--branch", BRANCH)
    assert code == 0 and begun["base"]["tables"] == lake["main"]
    done = smoke(env, "--audit-branch", BRANCH)
    assert done.returncode == 0, done.stdout + done.stderr
    assert {t: reader_view(settings)[t] for t in before} == before
    head = head_line(done.stdout, BRANCH)
    code, status, _ = wap_cli(env, "status", "--branch", BRANCH)
    assert status["head"] == head
    expect = json.dumps(head["tables"])
    code, published, _ = wap_cli(env, "publish", "--branch", BRANCH, "--expect", expect)
    assert (code, published["method"]) == (0, "multi-table-commit")
    assert main_ids(settings) == head["tables"] == published["published"]["tables"]
    assert published["branch_removed"] and not open_versioning(settings).exists(BRANCH)


def test_a_conflict_in_the_multi_table_commit_publishes_nothing(lake, monkeypatch):
    settings = lake["settings"]
    wap = open_versioning(settings)
    wap.begin(BRANCH)
    write_on_branch(settings, BRANCH)
    head = wap.head(BRANCH).tables
    real = restcommit.commit_refs

    def race(catalog, namespace, moves):
        # Another writer commits to event_stream's main between the plan and the commit.
        table = open_catalog(settings).load_table((namespace, "event_stream"))
        with table.transaction() as tx, tx.update_snapshot().fast_append():
            pass
        real(catalog, namespace, moves)

    monkeypatch.setattr(restcommit, "commit_refs", race)
    moved_before = main_ids(settings)
    with pytest.raises(WapRefused, match="refused the commit, nothing moved"):
        wap.publish(BRANCH, head)
    after = main_ids(settings)
    assert after["customer_dim"] == moved_before["customer_dim"], "checked before writing"
    assert after["event_stream"] not in (head["event_stream"], moved_before["event_stream"])


def test_an_interrupted_publish_between_two_tables_is_reported_and_resumed(lake, tmp_path):
    settings, state = lake["settings"], tmp_path / "publish.json"
    wap = TableRefs(settings, one_table_at_a_time=True)
    wap.begin(BRANCH)
    write_on_branch(settings, BRANCH)
    head = wap.head(BRANCH).tables

    def stop(step):
        raise RuntimeError("the task was stopped")

    with pytest.raises(WapError) as stopped:
        wap.publish(BRANCH, head, state=state, on_step=stop)
    assert "tables at their target: customer_dim" in str(stopped.value)
    assert main_ids(settings) == {**lake["main"], "customer_dim": head["customer_dim"]}
    code, doc, _ = wap_cli(
        lake["env"], "publish", "--branch", BRANCH, "--expect", json.dumps(head),
        "--state", str(state),
    )  # fmt: skip
    assert (code, doc["resumed"]) == (0, True)
    assert [s["result"] for s in doc["steps"]] == [ALREADY_APPLIED, APPLIED]
    assert main_ids(settings) == head


def test_rollback_and_its_reverse_over_rest_and_a_schema_change_blocks_it(lake):
    env, settings = lake["env"], lake["settings"]
    first_view = reader_view(settings)
    wap = open_versioning(settings)
    wap.begin(BRANCH)
    write_on_branch(settings, BRANCH)
    second = wap.publish(BRANCH, wap.head(BRANCH).tables).published.tables
    second_view = reader_view(settings)
    code, back, _ = wap_cli(env, "rollback", "--to", json.dumps(lake["main"]))
    assert (code, back["method"], back["moved_from"]) == (0, "multi-table-commit", second)
    assert main_ids(settings) == lake["main"] and reader_view(settings) == first_view
    code, _, _ = wap_cli(env, "rollback", "--to", json.dumps(back["moved_from"]))
    assert code == 0 and main_ids(settings) == second and reader_view(settings) == second_view
    table = open_catalog(settings).load_table((lake["ns"], "customer_dim"))
    with table.update_schema() as update:
        update.add_column("zz_note", StringType())
    code, refused, stderr = wap_cli(env, "rollback", "--to", json.dumps(lake["main"]))
    assert (code, refused["outcome"]) == (1, "refused")
    assert "rollback refused for customer_dim" in refused["reason"]
    assert "--allow-schema-change customer_dim" in refused["text"]
    assert refused["text"] in stderr, "the person running it sees the plan"
    assert main_ids(settings) == second
    code, _, _ = wap_cli(
        env, "rollback", "--to", json.dumps(lake["main"]), "--allow-schema-change", "customer_dim"
    )
    assert code == 0 and main_ids(settings) == lake["main"]


def test_a_scheduled_run_over_rest_is_published_by_the_sensor(lake):
    from dagster import (
        DagsterEventType,
        DagsterInstance,
        build_run_status_sensor_context,
        materialize,
    )

    from lakehouse.assets import event_stream
    from lakehouse.wap.runs import build_run_branch_sensors, run_branch

    settings, instance = lake["settings"], DagsterInstance.ephemeral()
    branching = build_resources(replace(settings, run_branches=True))
    result = materialize(
        [event_stream], partition_key=AUDIT_DAY, resources=branching, instance=instance
    )
    assert result.success and main_ids(settings) == lake["main"]
    record = instance.get_records_for_run(result.run_id, of_type=DagsterEventType.RUN_SUCCESS)
    sensor = next(s for s in build_run_branch_sensors(True) if s.name == "wap_publish_run")
    context = build_run_status_sensor_context(
        sensor_name=sensor.name,
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(result.run_id),
        dagster_event=record.records[0].event_log_entry.dagster_event,
        resources=build_resources(settings),
    )
    outcome = sensor(context)
    assert "(multi-table-commit)" in outcome.skip_message
    assert main_ids(settings)["event_stream"] != lake["main"]["event_stream"]
    assert not open_versioning(settings).exists(run_branch(result.run_id))


def test_nessie_writers_address_the_branch_in_the_catalog_uri(rest_catalog, tmp_path):
    """Nessie's write path: only the catalog URI changes; pyiceberg's REST client follows it.

    The Nessie front forwards every branch to the one Apache server (no isolation: that is
    Nessie's job, covered against the API fake); this checks the requests' addresses.
    """
    from tests.nessie_api_fake import FakeNessie

    fake = FakeNessie().start()
    front = NessieFront(
        backend=rest_catalog.front.backend,
        warehouse_name=WAREHOUSE_NAME,
        warehouse_location=rest_catalog.warehouse,
        branches=("main", BRANCH),
        nessie_marker=True,
    ).start()
    try:
        env = rest_catalog.env(
            "zznessiewrite",
            ICEBERG_CATALOG_URI=front.uri("main"),
            NESSIE_API_URI=f"{fake.base}/api/v2",
            LAKEHOUSE_WRITE_BRANCH=BRANCH,
        )
        materialize_day(Settings.from_env(env), AUDIT_DAY, AUDIT_AS_OF)
        assert BRANCH in fake.refs, "the branch was made through Nessie's API v2"
        paths = [path for _, path, _ in front.requests]
        assert f"/iceberg/{BRANCH}/v1/config?warehouse={WAREHOUSE_NAME}" in paths
        writes = [p for p in paths if "/namespaces/zznessiewrite/tables" in p]
        assert writes and all(
            p.startswith(f"/iceberg/v1/{BRANCH}%7C{WAREHOUSE_NAME}/") for p in writes
        )
    finally:
        front.stop()
        fake.stop()
