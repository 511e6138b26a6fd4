from __future__ import annotations

from collections import Counter

import pyarrow as pa
from dagster import DagsterInstance, materialize
from pyiceberg.transforms import BucketTransform, DayTransform

from lakehouse.assets import event_stream
from lakehouse.catalog import open_catalog
from lakehouse.config import Settings
from lakehouse.resources import build_resources
from lakehouse.tables import CONTRACTS
from tests.conftest import CUSTOMERS, DAYS, EVENTS_PER_DAY


def _table(lake, name):
    settings = Settings.from_env(lake["env"])
    return open_catalog(settings).load_table(("lakehouse", name))


def test_every_materialization_succeeded(lake):
    assert all(r.success for r in lake["results"].values())


def test_event_stream_rows_schema_and_partitions(lake):
    table = _table(lake, "event_stream")
    data = table.scan().to_arrow()
    assert data.num_rows == EVENTS_PER_DAY * len(DAYS)
    assert table.schema() == CONTRACTS["event_stream"].schema
    spec = table.spec()
    assert [(f.name, type(f.transform)) for f in spec.fields] == [
        ("event_day", DayTransform),
        ("customer_bucket", BucketTransform),
    ]
    days = Counter(ts.date().isoformat() for ts in data.column("event_ts").to_pylist())
    assert days == {d: EVENTS_PER_DAY for d in DAYS}
    assert data.column("event_id").null_count == 0
    assert len(set(data.column("event_id").to_pylist())) == data.num_rows
    purchases = data.filter(pa.compute.equal(data.column("event_type"), "purchase"))
    assert purchases.column("amount").null_count == 0
    # data files are laid out per day partition
    partitions = {task.file.partition[0] for task in table.scan().plan_files()}
    assert len(partitions) == len(DAYS)


def test_event_partition_rerun_is_idempotent(lake):
    resources = build_resources(Settings.from_env(lake["env"]))
    result = materialize(
        [event_stream],
        partition_key=DAYS[0],
        resources=resources,
        instance=DagsterInstance.ephemeral(),
    )
    assert result.success
    data = _table(lake, "event_stream").scan().to_arrow()
    assert data.num_rows == EVENTS_PER_DAY * len(DAYS)


def test_customer_dim_is_scd2(lake):
    table = _table(lake, "customer_dim")
    assert table.schema() == CONTRACTS["customer_dim"].schema
    assert table.spec().is_unpartitioned()
    rows = table.scan().to_arrow().to_pylist()
    current = Counter(r["customer_id"] for r in rows if r["is_current"])
    assert len(current) == CUSTOMERS
    assert set(current.values()) == {1}
    assert len({r["customer_sk"] for r in rows}) == len(rows)
    closed = [r for r in rows if not r["is_current"]]
    assert closed, "the second snapshot must have changed some customers"
    assert all(r["effective_to"] is not None for r in closed)
    assert len(rows) == CUSTOMERS + len(closed)
    dim_meta = (
        lake["results"]["dim:2026-11-21"]
        .asset_materializations_for_node("lakehouse__customer_dim")[0]
        .metadata
    )
    assert dim_meta["scd2_changed"].value == len(closed)
    assert dim_meta["dagster/row_count"].value == len(rows)


def test_customer_features_derived_from_events_and_dim(lake):
    table = _table(lake, "customer_features")
    assert table.schema() == CONTRACTS["customer_features"].schema
    assert [f.name for f in table.spec().fields] == ["feature_day"]
    features = table.scan().to_arrow()
    events = _table(lake, "event_stream").scan().to_arrow()
    per_customer = Counter(events.column("customer_id").to_pylist())
    assert features.num_rows == len(per_customer)
    by_id = {r["customer_id"]: r for r in features.to_pylist()}
    for cid, count in per_customer.items():
        assert by_id[cid]["events_7d"] == count
        assert by_id[cid]["tier"] in {"bronze", "silver", "gold"}
        assert str(by_id[cid]["feature_date"]) == DAYS[-1]
    revenue = sum(float(a) for a in events.column("amount").to_pylist() if a is not None)
    assert abs(sum(r["revenue_7d"] for r in by_id.values()) - revenue) < 0.01


def test_blocking_asset_checks_pass(lake):
    evaluations = [
        evaluation
        for result in lake["results"].values()
        for evaluation in result.get_asset_check_evaluations()
    ]
    names = {e.check_name for e in evaluations}
    assert names == {
        "event_ids_unique_in_partition",
        "events_inside_partition_window",
        "one_current_version_per_customer",
    }
    assert all(e.passed for e in evaluations)
