"""Rolling the published state back to a release's recorded snapshots, and forward again.

On the SQL catalog with table refs: one release published the first day, the next
published the second day through an audit branch; the ledger recorded each release's
snapshots (what the gate judged).
"""

from __future__ import annotations

import pytest
from pyiceberg.types import StringType

from lakehouse.catalog import open_catalog
from lakehouse.wap import WapError, WapRefused, open_versioning
from lakehouse.wap.changes import NEWER, OLDER, REFUSED, ROLLBACK, plan_text
from lakehouse.wap.model import ALREADY_APPLIED, APPLIED
from tests.conftest import EVENTS_PER_DAY, lake_env
from tests.wap_lake import main_ids, published_lake, reader_view, write_on_branch

BRANCH = "audit-zz9988"


@pytest.fixture
def releases(tmp_path):
    """Two published releases: their recorded snapshots and what readers saw of each."""
    settings = published_lake(lake_env(tmp_path))
    first = {"snapshots": main_ids(settings), "view": reader_view(settings)}
    wap = open_versioning(settings)
    wap.begin(BRANCH)
    write_on_branch(settings, BRANCH)
    wap.publish(BRANCH, wap.head(BRANCH).tables)
    second = {"snapshots": main_ids(settings), "view": reader_view(settings)}
    return {"settings": settings, "wap": wap, "first": first, "second": second}


def test_the_plan_shows_tables_snapshots_and_rows_before_anything_moves(releases):
    first, second = releases["first"]["snapshots"], releases["second"]["snapshots"]
    changes = releases["wap"].plan_rollback(first, allow=set())
    assert main_ids(releases["settings"]) == second, "planning moves nothing"
    by_table = {c.table: c for c in changes}
    events = by_table["event_stream"]
    assert (events.action, events.current, events.target) == (
        ROLLBACK,
        second["event_stream"],
        first["event_stream"],
    )
    assert events.relation == OLDER
    assert (events.rows_current, events.rows_target) == (2 * EVENTS_PER_DAY, EVENTS_PER_DAY)
    assert events.rows_added_between == EVENTS_PER_DAY and events.rows_deleted_between == 0
    assert not events.schema_changed
    text = plan_text("table-refs", "lakehouse", changes)
    assert f"event_stream: {second['event_stream']} -> {first['event_stream']}" in text
    assert f"rows {2 * EVENTS_PER_DAY} -> {EVENTS_PER_DAY}" in text


def test_rollback_restores_the_recorded_snapshots_and_its_reverse_the_newer_ones(releases):
    wap, settings = releases["wap"], releases["settings"]
    back = wap.rollback(releases["first"]["snapshots"], allow=set())
    assert main_ids(settings) == releases["first"]["snapshots"]
    assert reader_view(settings) == releases["first"]["view"]
    assert back.moved_from == releases["second"]["snapshots"], "what it moved away from"
    forward = wap.rollback(back.moved_from, allow=set())
    assert {c.relation for c in forward.changes} == {NEWER}
    assert main_ids(settings) == releases["second"]["snapshots"]
    assert reader_view(settings) == releases["second"]["view"], "no data was lost"


def test_a_schema_change_blocks_the_rollback_by_name_unless_allowed(releases):
    wap, settings = releases["wap"], releases["settings"]
    table = open_catalog(settings).load_table(("lakehouse", "event_stream"))
    with table.update_schema() as update:
        update.add_column("zz_note", StringType())
    with pytest.raises(WapRefused, match="rollback refused for event_stream") as refused:
        wap.rollback(releases["first"]["snapshots"], allow=set())
    changes = {c.table: c for c in refused.value.details["changes"]}
    assert changes["event_stream"].action == REFUSED
    diff = changes["event_stream"].schema_diff
    assert diff == {"added": ["zz_note"], "removed": [], "changed": []}
    assert "--allow-schema-change event_stream" in changes["event_stream"].reason
    assert changes["customer_dim"].action == ROLLBACK, "only the changed table is named"
    assert main_ids(settings) == releases["second"]["snapshots"], "nothing moved"
    done = wap.rollback(releases["first"]["snapshots"], allow={"event_stream"})
    assert main_ids(settings) == releases["first"]["snapshots"]
    assert {c.table: c.schema_changed for c in done.changes}["event_stream"]


def test_a_snapshot_the_table_no_longer_has_is_refused(releases):
    target = {**releases["first"]["snapshots"], "event_stream": 12345}
    changes = {c.table: c for c in releases["wap"].plan_rollback(target, allow=set())}
    assert changes["event_stream"].action == REFUSED
    assert "no longer in event_stream's metadata" in changes["event_stream"].reason


def test_an_interrupted_rollback_is_resumed(releases, tmp_path):
    state, first = tmp_path / "rollback.json", releases["first"]["snapshots"]

    def crash(step):
        raise RuntimeError("stopped")

    with pytest.raises(WapError, match="interrupted"):
        releases["wap"].rollback(first, allow=set(), state=state, on_step=crash)
    resumed = open_versioning(releases["settings"]).rollback(first, allow=set(), state=state)
    assert [s.result for s in resumed.plan.steps] == [ALREADY_APPLIED, APPLIED]
    assert resumed.moved_from == releases["second"]["snapshots"]
    assert main_ids(releases["settings"]) == first
