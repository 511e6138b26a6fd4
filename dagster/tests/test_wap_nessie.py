"""The Nessie backend against a FAKE of Nessie's API v2 (tests/nessie_api_fake.py).

No real Nessie runs here. The fake stands in for the version store; the table contents
it holds point at real Iceberg metadata files (written by a SQL catalog), so what the
backend reads from them (schemas, row counts) is real.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from pyiceberg.catalog import load_catalog
from pyiceberg.types import StringType

from lakehouse.config import Settings
from lakehouse.wap import WapError, WapRefused, backend_name, open_versioning, pinned_catalog
from lakehouse.wap.cli import run
from lakehouse.wap.model import ALREADY_APPLIED
from lakehouse.wap.nessie import NessieBranches
from tests.nessie_api_fake import FakeNessie
from tests.test_wap_cli import valid

BRANCH = "audit-zzn3ss1e"
NS = "lakehouse"


class Tables:
    """Real Iceberg tables whose metadata files the fake's contents point at."""

    def __init__(self, root: Path) -> None:
        self.catalog = load_catalog(
            "zz", type="sql", uri=f"sqlite:///{root}/c.db", warehouse=f"file://{root}/wh"
        )
        self.catalog.create_namespace(NS)
        for name in ("alpha", "beta"):
            self.catalog.create_table((NS, name), schema=pa.schema([("n", pa.int64())]))

    def write(self, name: str, rows: int) -> dict:
        """Append ``rows`` rows; the table's content as Nessie would hold it."""
        table = self.catalog.load_table((NS, name))
        table.append(pa.table({"n": pa.array(range(rows), pa.int64())}))
        return self.content(name)

    def content(self, name: str) -> dict:
        table = self.catalog.load_table((NS, name))
        snapshot = table.current_snapshot()
        assert snapshot is not None
        return {
            "metadataLocation": table.metadata_location,
            "snapshotId": snapshot.snapshot_id,
            "schemaId": table.schema().schema_id,
            "specId": 0,
            "sortOrderId": 0,
        }


@pytest.fixture
def nessie(tmp_path) -> Iterator[dict]:
    fake = FakeNessie().start()
    tables = Tables(tmp_path)
    fake.put("main", {(NS, n): tables.write(n, 3) for n in ("alpha", "beta")}, "first release")
    settings = Settings(
        environment="zzfixture",
        access_level="admin",
        alerting_enabled=False,
        deployed=False,
        catalog_uri=f"{fake.base}/iceberg/main",
        warehouse=f"file://{tmp_path}/wh",
        catalog_type="rest",
        versioning="nessie",
    )
    try:
        yield {
            "fake": fake,
            "tables": tables,
            "settings": settings,
            "wap": NessieBranches(settings),
        }
    finally:
        fake.stop()


def snapshots(fake: FakeNessie, ref: str = "main") -> dict[str, int]:
    return {k[-1]: c["snapshotId"] for k, c in fake.contents(ref).items()}


def audit(nessie: dict, **rows: int) -> dict[str, int]:
    """Begin the branch and write ``rows`` per table to it; the branch head."""
    nessie["wap"].begin(BRANCH)
    contents = {(NS, name): nessie["tables"].write(name, n) for name, n in rows.items()}
    nessie["fake"].put(BRANCH, contents, "smoke run")
    return nessie["wap"].head(BRANCH).tables


def test_the_backend_is_chosen_from_nessies_config(nessie):
    auto = Settings(**{**nessie["settings"].__dict__, "versioning": "auto"})
    assert backend_name(auto) == "nessie"
    assert isinstance(open_versioning(auto), NessieBranches)


def test_begin_branches_from_mains_hash_and_writes_leave_main_alone(nessie):
    fake, wap = nessie["fake"], nessie["wap"]
    main_hash, published = fake.refs["main"], snapshots(fake)
    base = wap.begin(BRANCH)
    assert (base.ref, base.hash, base.tables) == ("main", main_hash, published)
    assert fake.refs[BRANCH] == main_hash
    with pytest.raises(WapRefused, match="exists already"):
        wap.begin(BRANCH)
    fake.put(BRANCH, {(NS, "alpha"): nessie["tables"].write("alpha", 5)})
    assert fake.refs["main"] == main_hash and snapshots(fake) == published
    head = wap.head(BRANCH)
    assert head.hash == fake.refs[BRANCH] and head.tables["alpha"] != published["alpha"]


def test_writers_and_the_gate_address_the_branch_through_the_catalog_uri(nessie):
    wap, settings = nessie["wap"], nessie["settings"]
    head = wap.begin(BRANCH)
    writer = wap.write_catalog(BRANCH)
    assert writer.properties["uri"] == f"{nessie['fake'].base}/iceberg/{BRANCH}"
    assert wap.write_ref(BRANCH) == "main"
    pinned = wap.head(BRANCH)
    assert pinned.hash == head.hash
    # The gate's catalog is the branch at that hash: later writes to it are not seen.
    from lakehouse.wap.nessie import catalog_uri_for

    assert catalog_uri_for(settings, f"{BRANCH}@{pinned.hash}").endswith(
        f"/iceberg/{BRANCH}@{pinned.hash}"
    )
    with pytest.raises(Exception):  # noqa: B017 (the fake serves no Iceberg REST tables)
        pinned_catalog(settings, pinned).load_table((NS, "alpha"))
    paths = [path for _, path in nessie["fake"].requests]
    assert f"/iceberg/{BRANCH}@{pinned.hash}/v1/config" in paths


def test_publish_is_one_merge_that_moves_main_to_exactly_the_audited_contents(nessie, tmp_path):
    fake, wap = nessie["fake"], nessie["wap"]
    head = audit(nessie, alpha=4, beta=2)
    audited = fake.contents(BRANCH)
    commits_before = fake.log_length("main")
    result = wap.publish(BRANCH, head, state=tmp_path / "state.json")
    assert result.method == "nessie-merge"
    assert fake.contents("main") == audited, "same content objects: metadata and snapshot"
    assert fake.log_length("main") == commits_before + 1, "one commit for every table"
    assert result.published.tables == head and result.branch_removed
    assert BRANCH not in fake.refs


def test_publish_refuses_a_branch_that_moved_after_the_audit(nessie):
    fake, wap = nessie["fake"], nessie["wap"]
    head = audit(nessie, alpha=4)
    fake.put(BRANCH, {(NS, "beta"): nessie["tables"].write("beta", 9)}, "written after the gate")
    main_hash = fake.refs["main"]
    with pytest.raises(WapRefused, match="does not hold what was audited") as refused:
        wap.publish(BRANCH, head)
    assert [m["table"] for m in refused.value.details["mismatches"]] == ["beta"]
    assert fake.refs["main"] == main_hash


def test_a_conflicting_merge_publishes_nothing(nessie):
    fake, wap = nessie["fake"], nessie["wap"]
    head = audit(nessie, alpha=4)
    fake.put("main", {(NS, "alpha"): nessie["tables"].write("alpha", 1)}, "a scheduled run")
    main_hash, main = fake.refs["main"], snapshots(fake)
    with pytest.raises(WapRefused, match="conflict") as refused:
        wap.publish(BRANCH, head)
    assert "lakehouse.alpha" in str(refused.value)
    assert fake.refs["main"] == main_hash and snapshots(fake) == main
    assert BRANCH in fake.refs, "the branch stays for a look"


def test_only_the_tables_the_branch_changed_are_published(nessie):
    """beta was judged as the branch had it (unchanged); main moved it since: the publish
    moves alpha only, and reports every table's published snapshot afterwards."""
    fake, wap = nessie["fake"], nessie["wap"]
    head = audit(nessie, alpha=4)
    fake.put("main", {(NS, "beta"): nessie["tables"].write("beta", 1)}, "a scheduled run")
    newer_beta = snapshots(fake)["beta"]
    assert wap.changed(BRANCH) == {"alpha": head["alpha"]}
    result = wap.publish(BRANCH, head)
    assert [(s.table, s.target) for s in result.plan.steps] == [("alpha", head["alpha"])]
    assert result.published.tables == {"alpha": head["alpha"], "beta": newer_beta}
    assert snapshots(fake) == result.published.tables


def test_a_write_nobody_judged_is_not_published(nessie):
    fake, wap = nessie["fake"], nessie["wap"]
    head = audit(nessie, alpha=4, beta=2)
    main_hash = fake.refs["main"]
    with pytest.raises(WapRefused, match="does not hold what was audited") as refused:
        wap.publish(BRANCH, {"alpha": head["alpha"]})
    assert refused.value.details["mismatches"] == [
        {"table": "beta", "expected": None, "actual": head["beta"]}
    ]
    assert fake.refs["main"] == main_hash


def test_a_publish_interrupted_after_the_merge_is_resumed(nessie, tmp_path):
    fake, wap = nessie["fake"], nessie["wap"]
    head, state = audit(nessie, alpha=4, beta=5), tmp_path / "state.json"

    def lost(step):
        raise RuntimeError("the answer was lost")

    with pytest.raises(WapError, match="interrupted"):
        wap.publish(BRANCH, head, state=state, on_step=lost)
    assert snapshots(fake) == head
    again = NessieBranches(nessie["settings"]).publish(BRANCH, head, state=state)
    assert [s.result for s in again.plan.steps] == [ALREADY_APPLIED, ALREADY_APPLIED]
    assert again.plan.resumed and BRANCH not in fake.refs


def test_discard_deletes_the_branch_only(nessie):
    fake, wap = nessie["fake"], nessie["wap"]
    audit(nessie, alpha=4)
    main_hash = fake.refs["main"]
    assert wap.discard(BRANCH).removed and BRANCH not in fake.refs
    assert fake.refs["main"] == main_hash
    assert not wap.discard(BRANCH).removed


def test_rollback_puts_back_the_recorded_contents_and_its_reverse_the_newer(nessie):
    fake, wap = nessie["fake"], nessie["wap"]
    first_contents, first = fake.contents("main"), snapshots(fake)
    head = audit(nessie, alpha=4, beta=5)
    wap.publish(BRANCH, head)
    second_contents = fake.contents("main")
    changes = {c.table: c for c in wap.plan_rollback(first, allow=set())}
    assert (changes["alpha"].rows_current, changes["alpha"].rows_target) == (7, 3)
    assert changes["alpha"].relation == "unknown"
    back = wap.rollback(first, allow=set())
    assert back.method == "nessie-commit"
    assert fake.contents("main") == first_contents, "the same metadata files as recorded"
    assert back.moved_from == head
    forward = wap.rollback(back.moved_from, allow=set())
    assert fake.contents("main") == second_contents
    assert forward.moved_from == first


def test_a_schema_change_blocks_the_rollback_by_name(nessie):
    fake, wap, tables = nessie["fake"], nessie["wap"], nessie["tables"]
    first = snapshots(fake)
    table = tables.catalog.load_table((NS, "alpha"))
    with table.update_schema() as update:
        update.add_column("zz_note", StringType())
    evolved = tables.catalog.load_table((NS, "alpha"))
    evolved.append(pa.table({"n": pa.array([1], pa.int64()), "zz_note": pa.array(["x"])}))
    fake.put("main", {(NS, "alpha"): tables.content("alpha")}, "schema change")
    main_hash = fake.refs["main"]
    with pytest.raises(WapRefused, match="rollback refused for alpha") as refused:
        wap.rollback(first, allow=set())
    reason = {c.table: c.reason for c in refused.value.details["changes"]}["alpha"]
    assert "added: zz_note" in reason and "--allow-schema-change alpha" in reason
    assert fake.refs["main"] == main_hash
    wap.rollback(first, allow={"alpha"})
    assert snapshots(fake) == first


def test_a_table_changed_while_rolling_back_refuses_the_whole_commit(nessie):
    fake, wap, tables = nessie["fake"], nessie["wap"], nessie["tables"]
    first = snapshots(fake)
    fake.put("main", {(NS, n): tables.write(n, 2) for n in ("alpha", "beta")}, "second")
    second = snapshots(fake)

    def race(branch, body):
        fake.before_commit = None
        fake.put("main", {(NS, "beta"): tables.write("beta", 1)}, "a scheduled run")

    fake.before_commit = race
    with pytest.raises(WapRefused, match="nothing moved"):
        wap.rollback(first, allow=set())
    now = snapshots(fake)
    assert now["alpha"] == second["alpha"], "alpha did not move either: one commit"


def test_a_snapshot_not_in_mains_history_is_refused(nessie):
    changes = nessie["wap"].plan_rollback({"alpha": 12345, "beta": 1}, allow=set())
    assert {c.table: c.action for c in changes} == {"alpha": "refused", "beta": "refused"}
    assert "not in main's history" in changes[0].reason


def test_the_command_reports_hashes_for_nessie(nessie):
    env = {
        "LAKEHOUSE_ENVIRONMENT": "zzfixture",
        "LAKEHOUSE_ACCESS_LEVEL": "admin",
        "LAKEHOUSE_ALERTING_ENABLED": "false",
        "LAKEHOUSE_DEPLOYED": "false",
        "ICEBERG_CATALOG_URI": nessie["settings"].catalog_uri,
        "ICEBERG_WAREHOUSE": nessie["settings"].warehouse,
    }
    begun = valid(run(["begin", "--branch", BRANCH], env))
    assert (begun["backend"], begun["base"]["hash"]) == ("nessie", nessie["fake"].refs["main"])
    nessie["fake"].put(BRANCH, {(NS, "alpha"): nessie["tables"].write("alpha", 4)})
    status = valid(run(["status", "--branch", BRANCH], env))
    assert status["changed"] == ["alpha"] and status["head"]["hash"] == nessie["fake"].refs[BRANCH]
    expect = json.dumps(status["head"]["tables"])
    done = valid(run(["publish", "--branch", BRANCH, "--expect", expect], env))
    assert (done["exit_code"], done["method"]) == (0, "nessie-merge")
    assert done["published"]["tables"] == status["head"]["tables"]
