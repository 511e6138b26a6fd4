"""Benchmark: what write-audit-publish adds to a release's verification, and a rollback.

On an ``event_stream`` of 1e6 rows (plus the small tables), with Iceberg table refs, on
the SQL catalog (sqlite + local files) and on Apache Iceberg's REST catalog server with
its files in moto's S3 (both started on 127.0.0.1 and stopped after; skipped without
java and the server's jars, see dagster/scripts/iceberg-rest.sh). For each it times, as
medians of ``--repeat`` rounds:

- branch create (``wap begin``), and the audit's extra work: resolving the branch to
  pinned snapshots, next to the full scan a gate makes anyway (read at the pinned
  snapshot, and at main for comparison);
- the smoke-sized write of one day (``--write-rows``) to the branch vs straight to main;
- publish (``wap publish``: one multi-table commit on REST, table by table on SQL);
- plan-rollback, rollback to the previous release's snapshots, and the reverse rollback.

Not a test: it prints figures. Run from ``dagster/`` (``make bench-wap``)::

    .venv/bin/python -m benchmarks.wap_bench [--rows 1000000] [--repeat 3] [--catalogs sql,rest]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from benchmarks.lakegen import NAMESPACE, build_lake, events
from lakehouse.catalog import open_catalog
from lakehouse.config import Settings
from lakehouse.wap import open_versioning, resolve_branch

PHASES = [
    ("branch create (begin)", "begin"),
    ("audit: resolve the branch to pinned snapshots", "resolve"),
    ("audit: full scan at the pinned snapshot", "scan_pinned"),
    ("  (no WAP: full scan of main)", "scan_main"),
    ("write one day to the branch", "write_branch"),
    ("  (no WAP: write one day to main)", "write_main"),
    ("publish", "publish"),
    ("plan-rollback", "plan"),
    ("rollback to the previous release", "rollback"),
    ("reverse rollback", "reverse"),
]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def one_round(settings: Settings, branch: str, write_rows: int, day: date) -> dict[str, float]:
    wap = open_versioning(settings)
    catalog = open_catalog(settings)
    before = wap.head("main").tables
    t: dict[str, float] = {}
    t["begin"], _ = timed(lambda: wap.begin(branch))
    events_table = catalog.load_table((NAMESPACE, "event_stream"))
    batch = events(day, 10**9 + day.toordinal() * write_rows, write_rows, datetime.now(UTC))
    t["write_branch"], _ = timed(lambda: events_table.append(batch, branch=branch))
    t["resolve"], pinned = timed(lambda: resolve_branch(settings, branch))
    snapshot = pinned.tables["event_stream"]
    catalog.load_table((NAMESPACE, "event_stream")).scan().to_arrow()  # warm the caches
    t["scan_pinned"], rows = timed(
        lambda: events_table.scan(snapshot_id=snapshot).to_arrow().num_rows
    )
    t["scan_main"], _ = timed(
        lambda: catalog.load_table((NAMESPACE, "event_stream")).scan().to_arrow()
    )
    t["publish"], result = timed(lambda: wap.publish(branch, wap.changed(branch)))
    after = result.published.tables
    t["plan"], _ = timed(lambda: wap.plan_rollback(before, set()))
    t["rollback"], back = timed(lambda: wap.rollback(before, set()))
    t["reverse"], _ = timed(lambda: wap.rollback(back.moved_from, set()))
    assert open_versioning(settings).head("main").tables == after, "the reverse restored it"
    # The same write straight to main, for comparison (kept: the next round starts there).
    fresh = open_catalog(settings).load_table((NAMESPACE, "event_stream"))
    other = events(day, 2 * 10**9 + day.toordinal() * write_rows, write_rows, datetime.now(UTC))
    t["write_main"], _ = timed(lambda: fresh.append(other))
    t["rows_read"] = rows
    return t


def bench(settings: Settings, args: argparse.Namespace) -> dict[str, float]:
    rounds = [
        one_round(settings, f"audit-bench{i}", args.write_rows, date(2030, 1, 1 + i))
        for i in range(args.repeat)
    ]
    return {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}


@contextlib.contextmanager
def sql_lake(work: Path, rows: int, rows_per_day: int) -> Iterator[Settings]:
    yield build_lake(work / "sql", rows, rows_per_day, "admin")


@contextlib.contextmanager
def rest_lake(work: Path, rows: int, rows_per_day: int) -> Iterator[Settings]:
    """Apache's REST server + moto, as the REST tests start them; the lake in there."""
    from benchmarks.lakegen import (
        CUSTOMER_DIM,
        CUSTOMER_FEATURES,
        EVENT_STREAM,
        append_events,
        customers,
        features,
    )
    from lakehouse.catalog import ensure_table
    from tests.rest_catalog import running_rest_catalog
    from tests.servers import CREDENTIALS, start_moto

    os.environ.update(CREDENTIALS)  # the default AWS chain of pyarrow's S3 client
    moto, endpoint = start_moto(work)
    (work / "rest").mkdir()
    try:
        with running_rest_catalog(work / "rest", endpoint) as rest:
            settings = Settings.from_env(rest.env(NAMESPACE))
            catalog = open_catalog(settings)
            now = datetime.now(UTC)
            ensure_table(catalog, NAMESPACE, CUSTOMER_DIM).append(customers(now))
            ensure_table(catalog, NAMESPACE, CUSTOMER_FEATURES).append(features(now.date(), now))
            append_events(ensure_table(catalog, NAMESPACE, EVENT_STREAM), rows, rows_per_day)
            yield settings
    finally:
        moto.stop()


def render(results: dict[str, dict[str, float]], args: argparse.Namespace) -> str:
    kinds = list(results)
    head = " | ".join(f"{k} s" for k in kinds)
    lines = [
        f"event_stream: {args.rows:,} rows, one day written per round: {args.write_rows:,} "
        f"rows; medians of {args.repeat} rounds",
        "",
        f"| phase | {head} |",
        "|---|" + "---:|" * len(kinds),
    ]
    for label, key in PHASES:
        cells = " | ".join(f"{results[k][key]:.3f}" for k in kinds)
        lines.append(f"| {label} | {cells} |")
    added = " | ".join(
        f"{results[k]['begin'] + results[k]['resolve'] + results[k]['publish']:.3f}" for k in kinds
    )
    lines.append(f"| **WAP added to a verification** (begin + resolve + publish) | {added} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.wap_bench", description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rows-per-day", type=int, default=100_000)
    parser.add_argument("--write-rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--catalogs", default="sql,rest", help="comma-separated: sql, rest")
    args = parser.parse_args(argv)
    results: dict[str, dict[str, float]] = {}
    makers = {"sql": sql_lake, "rest": rest_lake}
    with tempfile.TemporaryDirectory(prefix="wap-bench-") as tmp:
        for kind in args.catalogs.split(","):
            work = Path(tmp) / kind
            work.mkdir()
            try:
                with makers[kind](work, args.rows, args.rows_per_day) as settings:
                    results[kind] = bench(settings, args)
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # no java or jars (pytest's skip): REST is left out
                if kind != "rest":
                    raise
                print(f"wap_bench: REST catalog skipped: {type(exc).__name__}: {exc}")
                continue
            if results[kind]["rows_read"] <= args.rows:
                raise RuntimeError(f"{kind}: the audit read {results[kind]['rows_read']} rows")
    print(render(results, args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
