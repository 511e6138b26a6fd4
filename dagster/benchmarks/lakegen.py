"""Synthetic lakehouse tables of any size, for the gate benchmark.

Vectorized with pyarrow (no per-row Python), so 4e6 events take seconds to generate.
The data passes every check in ``lakehouse/quality/soda_checks``: event_stream is
written like the pipeline writes it (one append per UTC day, partitioned by day and
customer bucket), customer_dim and customer_features are small.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog
from pyiceberg.table import Table

from lakehouse.catalog import ensure_table, open_catalog
from lakehouse.config import Settings
from lakehouse.tables import CUSTOMER_DIM, CUSTOMER_FEATURES, EVENT_STREAM

ENVIRONMENT = "bench"
NAMESPACE = "lakehouse"
CUSTOMERS = 1000
EVENT_TYPES = pa.array(["page_view", "search", "add_to_cart", "login", "purchase"])
AGENTS = pa.array(["Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0", "curl/8.5", "Safari/605"])
PAGES = pa.array(["/", "/search", "/product/42", "/cart", "/checkout", "/account"])
TIERS = pa.array(["bronze", "silver", "gold"])


def env_values(root: Path, access_level: str, rest_uri: str | None = None) -> dict[str, str]:
    """The variables of the benchmark environment's file: local files, in a SQL catalog,
    or with ``rest_uri`` in the REST catalog server there (as deployed environments)."""
    values = {
        "LAKEHOUSE_ENVIRONMENT": ENVIRONMENT,
        "LAKEHOUSE_ACCESS_LEVEL": access_level,
        "LAKEHOUSE_ALERTING_ENABLED": "false",
        "LAKEHOUSE_DEPLOYED": "false",
        "ICEBERG_CATALOG_URI": f"sqlite:///{root}/catalog.db",
        "ICEBERG_WAREHOUSE": warehouse_uri(root),
    }
    if rest_uri is not None:
        values.update(ICEBERG_CATALOG_URI=rest_uri, ICEBERG_CATALOG_TYPE="rest")
    return values


def warehouse_uri(root: Path) -> str:
    return f"file://{root}/warehouse"


def write_env_file(project_dir: Path, values: dict[str, str]) -> Path:
    project_dir.mkdir(parents=True, exist_ok=True)
    path = project_dir / f".env.{values['LAKEHOUSE_ENVIRONMENT']}"
    path.write_text("".join(f"{k}='{v}'\n" for k, v in values.items()), encoding="utf-8")
    return path


def _uniform(n: int, seed: int) -> pa.Array:
    return pc.random(n, initializer=seed)


def _index(n: int, size: int, seed: int) -> pa.Array:
    """``n`` integers in ``[0, size)``."""
    return pc.cast(pc.floor(pc.multiply(_uniform(n, seed), size)), pa.int64())


def _text(prefix: str, values: pa.Array, width: int = 0) -> pa.Array:
    strings = pc.cast(values, pa.string())
    if width:
        strings = pc.utf8_lpad(strings, width, "0")
    return pc.binary_join_element_wise(prefix, strings, "")


def events(day: date, first: int, n: int, now: datetime) -> pa.Table:
    """``n`` events of one UTC day with ids ``first .. first + n - 1``."""
    seed = first + 1
    ids = pa.array(range(first, first + n), pa.int64())
    customer = _index(n, CUSTOMERS, seed)
    kind = _index(n, len(EVENT_TYPES), seed + 1)
    start_us = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1_000_000)
    offset = pc.cast(pc.floor(pc.multiply(_uniform(n, seed + 2), 86_400_000_000 - 1)), pa.int64())
    event_ts = pc.cast(pc.add(offset, start_us), pa.timestamp("us", tz="UTC"))
    anonymous = pc.less(_uniform(n, seed + 3), 0.2)  # below the 30% warn threshold
    user = pc.if_else(anonymous, pa.scalar(None, pa.string()), _text("user", customer, 5))
    email = pc.binary_join_element_wise(user, "@example.com", "")  # null stays null
    purchase = pc.equal(pc.take(EVENT_TYPES, kind), "purchase")
    cents = pc.cast(_index(n, 50_000, seed + 4), pa.int32())
    amount = pc.if_else(
        purchase, pc.cast(cents, pa.decimal128(12, 2)), pa.scalar(None, pa.decimal128(12, 2))
    )
    columns = {
        "event_id": _text("evt-", ids, 16),
        "event_type": pc.take(EVENT_TYPES, kind),
        "event_ts": event_ts,
        "customer_id": _text("C", customer, 5),
        "session_id": _text("S", pc.add(pc.multiply(customer, 1000), _index(n, 1000, seed + 5))),
        "user_email": email,
        "ip_address": _text("10.0.0.", _index(n, 255, seed + 6)),
        "user_agent": pc.take(AGENTS, _index(n, len(AGENTS), seed + 7)),
        "page_url": pc.take(PAGES, _index(n, len(PAGES), seed + 8)),
        "amount": amount,
        "currency": pa.repeat("EUR", n),
        "ingested_at": pa.repeat(pa.scalar(now, pa.timestamp("us", tz="UTC")), n),
    }
    schema = EVENT_STREAM.schema.as_arrow()
    return pa.Table.from_arrays([columns[f.name] for f in schema], schema=schema)


def customers(now: datetime) -> pa.Table:
    ids = pa.array(range(CUSTOMERS), pa.int64())
    ts = pa.repeat(pa.scalar(now, pa.timestamp("us", tz="UTC")), CUSTOMERS)
    columns = {
        "customer_sk": ids,
        "customer_id": _text("C", ids, 5),
        "full_name": _text("Customer ", ids),
        "email": pc.binary_join_element_wise(_text("user", ids, 5), "@example.com", ""),
        "country": pa.repeat("DE", CUSTOMERS),
        "tier": pc.take(TIERS, pc.cast(pc.bit_wise_and(ids, 1), pa.int64())),
        "status": pa.repeat("active", CUSTOMERS),
        "record_hash": _text("h", ids),
        "effective_from": ts,
        "effective_to": pa.nulls(CUSTOMERS, pa.timestamp("us", tz="UTC")),
        "is_current": pa.repeat(True, CUSTOMERS),
        "updated_at": ts,
    }
    schema = CUSTOMER_DIM.schema.as_arrow()
    return pa.Table.from_arrays([columns[f.name] for f in schema], schema=schema)


def features(day: date, now: datetime) -> pa.Table:
    ids = pa.array(range(CUSTOMERS), pa.int64())
    zeros = pa.repeat(0, CUSTOMERS).cast(pa.int64())
    columns = {
        "customer_id": _text("C", ids, 5),
        "feature_date": pa.repeat(pa.scalar(day, pa.date32()), CUSTOMERS),
        "tier": pc.take(TIERS, pc.cast(pc.bit_wise_and(ids, 1), pa.int64())),
        "events_7d": zeros,
        "sessions_7d": zeros,
        "purchases_7d": zeros,
        "revenue_7d": pa.repeat(0.0, CUSTOMERS),
        "conversion_rate_7d": pa.repeat(0.0, CUSTOMERS),
        "last_event_ts": pa.repeat(pa.scalar(now, pa.timestamp("us", tz="UTC")), CUSTOMERS),
        "model_version": pa.repeat("bench", CUSTOMERS),
        "computed_at": pa.repeat(pa.scalar(now, pa.timestamp("us", tz="UTC")), CUSTOMERS),
    }
    schema = CUSTOMER_FEATURES.schema.as_arrow()
    return pa.Table.from_arrays([columns[f.name] for f in schema], schema=schema)


def append_events(table: Table, rows: int, rows_per_day: int, *, first: int = 0) -> int:
    """Append ``rows`` events, one snapshot per UTC day (as the daily asset does)."""
    now = datetime.now(UTC)
    today = now.date()
    written = 0
    while written < rows:
        n = min(rows_per_day, rows - written)
        day = today - timedelta(days=(first + written) // rows_per_day + 1)
        table.append(events(day, first + written, n, now))
        written += n
    return first + written


def build_lake(
    root: Path, rows: int, rows_per_day: int, access_level: str, rest_uri: str | None = None
) -> Settings:
    """``rows`` events under ``root`` (a SQL catalog, or the REST server at ``rest_uri``
    with its warehouse there); the settings to read them."""
    values = env_values(root, access_level, rest_uri)
    (root / "warehouse").mkdir(parents=True, exist_ok=True)
    settings = Settings.from_env(values)
    catalog: Catalog = open_catalog(settings)
    now = datetime.now(UTC)
    ensure_table(catalog, NAMESPACE, CUSTOMER_DIM).append(customers(now))
    ensure_table(catalog, NAMESPACE, CUSTOMER_FEATURES).append(features(now.date(), now))
    append_events(ensure_table(catalog, NAMESPACE, EVENT_STREAM), rows, rows_per_day)
    return settings


def data_files(settings: Settings, name: str = "event_stream") -> list[str]:
    """Local paths of the table's current data files (what bare DuckDB reads)."""
    table = open_catalog(settings).load_table((NAMESPACE, name))
    # file:///x (pyiceberg) or file:/x (Hadoop's FileIO behind the REST server)
    return [urlsplit(task.file.file_path).path for task in table.scan().plan_files()]


def metadata_location(settings: Settings, name: str = "event_stream") -> str:
    """The table's current metadata file (what DuckDB's iceberg_scan reads)."""
    return open_catalog(settings).load_table((NAMESPACE, name)).metadata_location
