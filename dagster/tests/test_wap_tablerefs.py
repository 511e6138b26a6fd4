"""Write-audit-publish with Iceberg table refs, on the SQL catalog (sqlite + files).

The assets write the published state, then the next day to an audit branch; what a
reader of the published state sees is compared before and after each operation.
"""

from __future__ import annotations

import json

import pytest

from lakehouse.catalog import open_catalog
from lakehouse.wap import (
    WapError,
    WapRefused,
    load_pinned_table,
    open_versioning,
    pinned_catalog,
    resolve_branch,
)
from lakehouse.wap.model import ALREADY_APPLIED, APPLIED, CONFLICT
from lakehouse.wap.tablerefs import TableRefs
from tests.conftest import lake_env
from tests.wap_lake import (
    TABLES,
    main_ids,
    published_lake,
    reader_view,
    settings_of_branch,
    write_on_branch,
)

BRANCH = "audit-zz0123abcd"


@pytest.fixture
def lake(tmp_path):
    """A published lake, and the reader's view of it before any branch exists."""
    settings = published_lake(lake_env(tmp_path))
    return {"settings": settings, "before": reader_view(settings), "main": main_ids(settings)}


@pytest.fixture
def audited(lake):
    """The lake with the next day written to an audit branch."""
    wap = open_versioning(lake["settings"])
    base = wap.begin(BRANCH)
    write_on_branch(lake["settings"], BRANCH)
    return {**lake, "wap": wap, "base": base, "head": wap.head(BRANCH)}


def test_the_backend_of_a_sql_catalog_is_table_refs(lake):
    assert isinstance(open_versioning(lake["settings"]), TableRefs)


def test_writes_to_the_branch_leave_the_published_state_untouched(audited):
    settings = audited["settings"]
    assert audited["base"].tables == audited["main"]
    assert set(audited["head"].tables) == set(TABLES)
    for name in TABLES:
        assert audited["head"].tables[name] != audited["main"][name], f"{name} was written"
    assert main_ids(settings) == audited["main"]
    assert reader_view(settings) == audited["before"]
    # ...and a reader of the branch sees the new day.
    on_branch = settings_of_branch(settings, BRANCH)
    from lakehouse.resources import build_resources

    events = build_resources(on_branch)["iceberg"].read("event_stream")
    assert events.num_rows == 2 * len(audited["before"]["event_stream"])


def test_a_discarded_branch_leaves_the_published_tables_as_they_were(audited):
    settings = audited["settings"]
    result = audited["wap"].discard(BRANCH)
    assert result.removed and result.dropped_tables == []
    assert main_ids(settings) == audited["main"]
    assert reader_view(settings) == audited["before"]
    catalog = open_catalog(settings)
    for name in TABLES:
        assert BRANCH not in catalog.load_table(("lakehouse", name)).metadata.refs
    assert not audited["wap"].exists(BRANCH)


def test_a_table_created_on_the_branch_disappears_with_it(audited):
    """customer_features did not exist when the branch was made: the write created it."""
    from tests.wap_lake import materialize_features

    settings = audited["settings"]
    materialize_features(settings_of_branch(settings, BRANCH))
    catalog = open_catalog(settings)
    features = catalog.load_table(("lakehouse", "customer_features"))
    assert features.scan().to_arrow().num_rows == 0, "readers see an empty table meanwhile"
    result = audited["wap"].discard(BRANCH)
    assert result.dropped_tables == ["customer_features"]
    assert sorted(t[-1] for t in catalog.list_tables("lakehouse")) == list(TABLES)
    assert reader_view(settings) == audited["before"]


def test_publish_moves_main_to_exactly_the_audited_snapshots(audited, tmp_path):
    head = audited["head"].tables
    result = audited["wap"].publish(BRANCH, head, state=tmp_path / "publish.json")
    assert result.method == "per-table"
    assert result.published.tables == head
    assert main_ids(audited["settings"]) == head
    assert [s.result for s in result.plan.steps] == [APPLIED, APPLIED]
    assert result.branch_removed and not audited["wap"].exists(BRANCH)
    saved = json.loads((tmp_path / "publish.json").read_text())
    assert [(s["table"], s["base"], s["target"]) for s in saved["steps"]] == [
        (name, audited["main"][name], head[name]) for name in TABLES
    ]


def test_publish_keeps_the_branch_when_asked(audited):
    result = audited["wap"].publish(BRANCH, audited["head"].tables, keep=True)
    assert not result.branch_removed and audited["wap"].exists(BRANCH)


def test_publish_refuses_what_was_not_audited(audited):
    wrong = {**audited["head"].tables, "event_stream": audited["main"]["event_stream"]}
    with pytest.raises(WapRefused) as refused:
        audited["wap"].publish(BRANCH, wrong)
    actual = audited["head"].tables["event_stream"]
    assert refused.value.details["mismatches"] == [
        {"table": "event_stream", "expected": wrong["event_stream"], "actual": actual}
    ]
    missing = {"event_stream": audited["head"].tables["event_stream"]}
    with pytest.raises(WapRefused, match="does not hold what was audited"):
        audited["wap"].publish(BRANCH, missing)
    assert main_ids(audited["settings"]) == audited["main"]
    assert reader_view(audited["settings"]) == audited["before"]


def test_publish_refuses_when_main_moved_since_the_branch_was_made(audited):
    from tests.wap_lake import AUDIT_DAY, BASE_AS_OF, materialize_day

    materialize_day(audited["settings"], AUDIT_DAY, BASE_AS_OF)  # a write straight to main
    moved = main_ids(audited["settings"])
    with pytest.raises(WapRefused, match="does not descend from"):
        audited["wap"].publish(BRANCH, audited["head"].tables)
    assert main_ids(audited["settings"]) == moved, "nothing was published"


def test_an_interrupted_publish_is_reported_and_resumed(audited, tmp_path):
    state, head = tmp_path / "publish.json", audited["head"].tables

    def crash_after_the_first_table(step):
        raise RuntimeError("the task was stopped")

    with pytest.raises(WapError, match="interrupted") as stopped:
        audited["wap"].publish(BRANCH, head, state=state, on_step=crash_after_the_first_table)
    steps = stopped.value.details["steps"]
    assert [(s["table"], s["result"]) for s in steps] == [
        ("customer_dim", APPLIED),
        ("event_stream", "pending"),
    ]
    mixed = main_ids(audited["settings"])
    assert mixed["customer_dim"] == head["customer_dim"], "the first table is published..."
    assert mixed["event_stream"] == audited["main"]["event_stream"], "...the second is not"
    result = open_versioning(audited["settings"]).publish(BRANCH, head, state=state)
    assert result.plan.resumed
    assert [s.result for s in result.plan.steps] == [ALREADY_APPLIED, APPLIED]
    assert main_ids(audited["settings"]) == head
    # Run once more (say the answer was lost): nothing left to do, still a success.
    again = open_versioning(audited["settings"]).publish(BRANCH, head, state=state)
    assert [s.result for s in again.plan.steps] == [ALREADY_APPLIED, ALREADY_APPLIED]


def test_a_resumed_publish_stops_at_a_table_someone_else_moved(audited, tmp_path):
    state, head = tmp_path / "publish.json", audited["head"].tables

    def crash(step):
        raise RuntimeError("stopped")

    with pytest.raises(WapError):
        audited["wap"].publish(BRANCH, head, state=state, on_step=crash)
    table = open_catalog(audited["settings"]).load_table(("lakehouse", "event_stream"))
    with table.transaction() as tx, tx.update_snapshot().fast_append():
        pass  # another writer commits to main meanwhile
    moved = main_ids(audited["settings"])["event_stream"]
    with pytest.raises(WapRefused, match="stopped before event_stream") as refused:
        open_versioning(audited["settings"]).publish(BRANCH, head, state=state)
    results = [s["result"] for s in refused.value.details["steps"]]
    assert results == [ALREADY_APPLIED, CONFLICT]
    assert main_ids(audited["settings"])["event_stream"] == moved


def test_a_state_file_of_another_branch_is_refused(audited, tmp_path):
    state = tmp_path / "publish.json"
    audited["wap"].publish(BRANCH, audited["head"].tables, state=state, keep=True)
    with pytest.raises(WapRefused, match="not the publish of 'audit-other'"):
        audited["wap"].publish("audit-other", audited["head"].tables, state=state)


def test_begin_refuses_a_branch_that_exists(audited):
    with pytest.raises(WapRefused, match="exists already"):
        audited["wap"].begin(BRANCH)


def test_the_gate_reads_exactly_the_pinned_branch_head(audited):
    settings = audited["settings"]
    pinned = resolve_branch(settings, BRANCH)
    assert pinned.tables == audited["head"].tables and pinned.hash is None
    write_on_branch(settings, BRANCH)  # written after the audit started: not judged
    assert resolve_branch(settings, BRANCH).tables != pinned.tables
    catalog = pinned_catalog(settings, pinned)
    table = load_pinned_table(settings, catalog, pinned, "event_stream")
    rows = table.scan(snapshot_id=pinned.tables["event_stream"]).to_arrow().num_rows
    assert rows == 2 * len(audited["before"]["event_stream"])
    with pytest.raises(WapRefused, match="not among the pinned tables"):
        load_pinned_table(settings, catalog, pinned, "customer_features")


def test_only_the_tables_the_branch_changed_are_published(lake):
    """A scheduled run published customer_dim meanwhile; the branch wrote event_stream only."""
    from dagster import DagsterInstance, materialize

    from lakehouse.assets import customer_dim, event_stream
    from lakehouse.resources import build_resources
    from tests.conftest import dim_config
    from tests.wap_lake import AUDIT_AS_OF, AUDIT_DAY

    settings, wap = lake["settings"], open_versioning(lake["settings"])
    wap.begin(BRANCH)
    on_branch = build_resources(settings_of_branch(settings, BRANCH))
    instance = DagsterInstance.ephemeral()
    materialize([event_stream], partition_key=AUDIT_DAY, resources=on_branch, instance=instance)
    dim = dim_config(AUDIT_AS_OF)
    materialize([customer_dim], resources=build_resources(settings), run_config=dim)
    newer_dim = main_ids(settings)["customer_dim"]
    assert newer_dim != lake["main"]["customer_dim"]
    head = wap.head(BRANCH).tables
    assert wap.changed(BRANCH) == {"event_stream": head["event_stream"]}
    result = wap.publish(BRANCH, head)
    assert [s.table for s in result.plan.steps] == ["event_stream"]
    assert main_ids(settings) == {"customer_dim": newer_dim, "event_stream": head["event_stream"]}
