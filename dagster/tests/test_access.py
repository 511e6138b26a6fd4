from __future__ import annotations

from lakehouse.catalog import open_catalog, read_table
from lakehouse.config import Settings
from lakehouse.resources import build_resources
from lakehouse.tables import CONTRACTS, MASK


def _reader_env(lake):
    return {**lake["env"], "LAKEHOUSE_ACCESS_LEVEL": "reader"}


def test_reader_never_sees_pii_through_the_resource(lake):
    iceberg = build_resources(Settings.from_env(_reader_env(lake)))["iceberg"]
    for name, contract in CONTRACTS.items():
        data = iceberg.read(name)
        assert data.num_rows > 0
        for column in contract.pii_columns:
            values = {v for v in data.column(column).to_pylist() if v is not None}
            assert values == {MASK}, f"{name}.{column} leaked to a reader"


def test_reader_never_sees_pii_through_the_gate_read_path(lake):
    settings = Settings.from_env(_reader_env(lake))
    catalog = open_catalog(settings)
    for name, contract in CONTRACTS.items():
        data = read_table(catalog, settings, name, row_filter=None)
        for column in contract.pii_columns:
            assert {v for v in data.column(column).to_pylist() if v} <= {MASK}


def test_masking_keeps_nulls_and_other_columns(lake):
    reader = build_resources(Settings.from_env(_reader_env(lake)))["iceberg"]
    admin = build_resources(Settings.from_env(lake["env"]))["iceberg"]
    masked, raw = reader.read("event_stream"), admin.read("event_stream")
    assert masked.column("user_email").null_count == raw.column("user_email").null_count
    assert masked.column("event_id").to_pylist() == raw.column("event_id").to_pylist()


def test_admin_sees_pii(lake):
    admin = build_resources(Settings.from_env(lake["env"]))["iceberg"]
    emails = [e for e in admin.read("event_stream").column("user_email").to_pylist() if e]
    assert emails and all("@example.com" in e for e in emails)
    dim = admin.read("customer_dim")
    assert all("@" in e for e in dim.column("email").to_pylist())
    assert MASK not in dim.column("full_name").to_pylist()


def test_no_pii_in_materialization_metadata(lake):
    admin = build_resources(Settings.from_env(lake["env"]))["iceberg"]
    pii_values = {
        v
        for name, contract in CONTRACTS.items()
        for column in contract.pii_columns
        for v in admin.read(name).column(column).to_pylist()
        if v
    }
    for result in lake["results"].values():
        for event in result.get_asset_materialization_events():
            text = repr(event.materialization.metadata)
            assert not any(v in text for v in pii_values)
