"""Every check type the project's SodaCL files use gives the outcome and measured value the
data holds, with Soda Core v3 on DuckDB 1.5 reading the tables in place.

soda-core-duckdb 3.5.6 declares duckdb<1.1 (requirements-soda.overrides lifts it), so
nothing upstream vouches for this pairing: these tests do, per check type. The expected
values are computed here, in Python, from the rows written to the seeded tables (never
by DuckDB): row_count, missing_count, duplicate_count (one and two columns),
invalid_count with valid values and with valid min, missing_percent with warn and fail
thresholds, min, freshness, schema (a required column missing) and user-defined metric
queries.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pyarrow as pa
import pytest

from lakehouse.catalog import open_catalog
from lakehouse.config import Settings
from lakehouse.tables import CUSTOMER_DIM, CUSTOMER_FEATURES
from tests.test_gate import _relaxed, lake_copy, replace_events, run_gate

EVENT_TYPES = {"page_view", "search", "add_to_cart", "login", "purchase"}


def measured(report: dict, table: str) -> dict[str, tuple[str, object]]:
    found = next(t for t in report["tables"] if t["name"] == table)
    assert found["error"] is None, found["error"]
    return {c["name"]: (c["outcome"], c["measured_value"]) for c in found["checks"]}


def duplicated(values: list) -> int:
    """Soda's duplicate_count: how many distinct non-null values occur more than once."""
    seen: dict = {}
    for value in values:
        if value is not None and (not isinstance(value, tuple) or None not in value):
            seen[value] = seen.get(value, 0) + 1
    return sum(1 for n in seen.values() if n > 1)


def _seed_events(rows: list[dict]) -> list[dict]:
    stale = datetime.now(UTC) - timedelta(days=3)
    for i, row in enumerate(rows):
        row["ingested_at"] = stale
        if i % 10 < 4:  # 40% anonymous: above warn (30%), below fail (60%)
            row["user_email"] = None
    rows[0]["customer_id"] = rows[1]["customer_id"] = rows[2]["customer_id"] = None
    rows[3]["event_type"], rows[4]["event_type"] = "teleport", None  # a null is not invalid
    rows[5]["amount"], rows[6]["amount"] = Decimal("-1.00"), Decimal("0.00")  # min 0: valid
    rows += [dict(rows[7]), dict(rows[7]), dict(rows[8])]  # two duplicated event ids
    rows[9]["event_id"] = rows[10]["event_id"] = None  # nulls are no duplicates
    return rows


def test_event_stream_check_types_measure_what_the_rows_hold(lake, tmp_path, soda_python):
    env = lake_copy(lake, tmp_path / "lake")
    kept: list[dict] = []

    def seed(rows: list[dict]) -> list[dict]:
        kept.extend(_seed_events(rows))
        return kept

    replace_events(env, seed)
    code, report, markdown = run_gate(soda_python, env, tmp_path)
    assert (code, report["outcome"]) == (1, "fail"), markdown
    checks = measured(report, "event_stream")
    total = len(kept)
    missing_email = sum(r["user_email"] is None for r in kept)
    assert checks["event_stream has rows"] == ("pass", total)
    assert checks["event_id is never null"] == ("fail", 2)
    assert checks["event_id is unique"] == ("fail", duplicated([r["event_id"] for r in kept]))
    assert checks["event_id is unique"][1] == 2
    assert checks["customer_id is never null"] == ("fail", 3)
    assert checks["event_ts is never null"] == ("pass", 0)
    invalid_types = sum(r["event_type"] not in EVENT_TYPES | {None} for r in kept)
    assert checks["event_type is a known type"] == ("fail", invalid_types)
    negative = sum(r["amount"] is not None and r["amount"] < 0 for r in kept)
    assert checks["amount is not negative"] == ("fail", negative) and negative == 1
    outcome, share = checks["share of anonymous events"]
    assert outcome == "warn"
    assert share == pytest.approx(100 * missing_email / total, abs=0.01)
    outcome, age_ms = checks["events ingested within the last day"]  # Soda: milliseconds
    assert outcome == "fail" and 3 * 86_400_000 <= age_ms < (3 * 86_400 + 600) * 1000
    assert checks["event_stream required columns present"][0] == "pass"


def test_a_missing_required_column_fails_the_schema_check(lake, tmp_path, soda_python):
    env = lake_copy(lake, tmp_path / "lake")
    catalog = open_catalog(Settings.from_env(env))
    ident = ("lakehouse", "event_stream")
    rows = catalog.load_table(ident).scan().to_arrow().drop_columns(["session_id"])
    catalog.drop_table(ident)
    table = catalog.create_table(ident, schema=rows.schema)
    table.append(rows)
    code, report, _ = run_gate(soda_python, env, tmp_path)
    assert code == 1
    checks = measured(report, "event_stream")
    assert checks["event_stream required columns present"][0] == "fail"
    assert checks["event_stream has rows"] == ("pass", rows.num_rows)


def _replace(env: dict[str, str], contract, mutate) -> list[dict]:
    catalog = open_catalog(Settings.from_env(env))
    ident = ("lakehouse", contract.name)
    rows = mutate(catalog.load_table(ident).scan().to_arrow().to_pylist())
    catalog.drop_table(ident)
    schema = _relaxed(contract.schema)
    catalog.create_table(ident, schema=schema).append(
        pa.Table.from_pylist(rows, schema=schema.as_arrow())
    )
    return rows


def test_customer_check_types_measure_what_the_rows_hold(lake, tmp_path, soda_python):
    env = lake_copy(lake, tmp_path / "lake")

    def seed_dim(rows: list[dict]) -> list[dict]:
        rows[0]["tier"] = "platinum"
        rows.append({**rows[1], "customer_sk": rows[2]["customer_sk"], "is_current": True})
        rows[3]["effective_to"], rows[3]["is_current"] = None, False
        return rows

    def seed_features(rows: list[dict]) -> list[dict]:
        for i, row in enumerate(rows):
            if i % 10 < 6:  # 60% without a tier: above fail (50%)
                row["tier"] = None
        rows[0]["revenue_7d"] = -5.0
        rows.append(dict(rows[1]))
        return rows

    dim = _replace(env, CUSTOMER_DIM, seed_dim)
    features = _replace(env, CUSTOMER_FEATURES, seed_features)
    code, report, markdown = run_gate(soda_python, env, tmp_path)
    assert code == 1, markdown
    checks = measured(report, "customer_dim")
    current = [r["customer_id"] for r in dim if r["is_current"]]
    several = sum(1 for c in set(current) if current.count(c) > 1)
    assert checks["one current version per customer"] == ("fail", several) and several >= 1
    unclosed = sum(not r["is_current"] and r["effective_to"] is None for r in dim)
    assert checks["closed versions have effective_to"] == ("fail", unclosed)
    assert checks["tier is a known tier"] == ("fail", 1)
    sks = duplicated([r["customer_sk"] for r in dim])
    assert checks["customer_sk is unique"] == ("fail", sks) and sks == 1
    checks = measured(report, "customer_features")
    pairs = duplicated([(r["customer_id"], r["feature_date"]) for r in features])
    assert checks["one row per customer and day"] == ("fail", pairs) and pairs == 1
    lowest = min(r["revenue_7d"] for r in features)
    assert checks["revenue is not negative"] == ("fail", lowest)
    outcome, share = checks["features joined to a current customer"]
    missing = sum(r["tier"] is None for r in features)
    assert outcome == "fail"
    assert share == pytest.approx(100 * missing / len(features), abs=0.01)
    assert checks["features computed within the last day"][0] == "pass"
