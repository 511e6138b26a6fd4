"""Benchmark: the quality gate's wall time and peak memory against table size.

For each catalog (a local SQL catalog, and Apache Iceberg's REST catalog server, which
every deployed environment's Nessie stands for) and each size it builds an
``event_stream`` table of that many rows (plus the small customer tables) on local
files, then runs, each in its own child process:

- the gate, exactly as the pipeline does (``python -m lakehouse.quality.gate
  --duckdb-path :memory:``: the module's gates and the deployed gate task keep no snapshot
  for ``soda scan``), and
- a bare DuckDB aggregate over the same table, through DuckDB's Iceberg reader with the
  same extension files, computing what the event_stream checks compute (null, invalid
  and duplicate counts, freshness).

It prints the wall time, CPU time and peak RSS (``ru_maxrss`` of that child, from
``wait4``) of both: medians of ``--repeat`` interleaved runs (CPU time is the steadier
figure on a shared machine). The REST server runs beside them (its CPU is in neither
figure, as a deployed catalog's is not). Not a test: nothing is asserted beyond the
gate passing and both counting every row. Run it with the Soda virtualenv from
``dagster/`` (the REST server needs java and scripts/iceberg-rest.sh's jars; without
them it is skipped, saying why)::

    .venv-soda/bin/python -m benchmarks.gate_bench            # 1e5, 1e6, 4e6 rows
    .venv-soda/bin/python -m benchmarks.gate_bench --large    # and 2e7
    .venv-soda/bin/python -m benchmarks.gate_bench --sizes 100000,400000 --catalogs rest

Goals (issue 24): at 4e6 rows the gate's wall and CPU time within 1.5x of the bare scan;
its peak RSS at most 100 MiB above the peak at 1e5 rows. Where the gate's time goes,
phase by phase: ``python -m benchmarks.gate_phases``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.lakegen import (
    ENVIRONMENT,
    build_lake,
    data_files,
    env_values,
    metadata_location,
    warehouse_uri,
    write_env_file,
)
from lakehouse.config import Settings
from lakehouse.quality.duck import extension_files

PROJECT_DIR = Path(__file__).resolve().parents[1]
# How the pipeline runs the gate (.dagger/quality.go, deploy/gate.sh): in a container whose
# filesystem goes with it, so it publishes no snapshot for `soda scan`.
PIPELINE_GATE_ARGS = ("--duckdb-path", ":memory:")

# What the event_stream checks compute, with DuckDB's Iceberg reader over the same table
# (the metadata file the catalog names) and its extensions loaded from the same wheels
# as the gate's: argv = [metadata location, extension files...]. DuckDB's defaults (no
# memory limit): the bare scan the gate is measured against.
BARE_DUCKDB = r"""
import json, sys, duckdb
con = duckdb.connect(
    config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
)
con.execute("SET enable_progress_bar = false")
for extension in sys.argv[2:]:
    con.execute("LOAD '" + extension + "'")
src = "iceberg_scan('" + sys.argv[1] + "')"
aggregate = con.execute(
    "SELECT count(*), count(*) FILTER (WHERE event_id IS NULL),"
    " count(*) FILTER (WHERE customer_id IS NULL), count(*) FILTER (WHERE event_ts IS NULL),"
    " count(*) FILTER (WHERE event_type NOT IN"
    " ('page_view', 'search', 'add_to_cart', 'login', 'purchase')),"
    " count(*) FILTER (WHERE amount < 0), count(*) FILTER (WHERE user_email IS NULL),"
    " max(ingested_at) FROM " + src
).fetchone()
duplicates = con.execute(
    "SELECT count(*) FROM (SELECT event_id FROM " + src + " WHERE event_id IS NOT NULL"
    " GROUP BY event_id HAVING count(*) > 1)"
).fetchone()
print(json.dumps({"rows": aggregate[0], "duplicates": duplicates[0]}))
"""


@dataclass
class Run:
    seconds: float  # wall time, process start to exit
    cpu_seconds: float  # user + system time of the child
    peak_mb: float  # ru_maxrss of the child
    stdout: str


# Runs one command and prints its resource use: wait4() gives the rusage of that
# child alone (RUSAGE_CHILDREN would be a running maximum over every child).
WRAPPER = """
import json, os, subprocess, sys
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, text=True)
out = proc.stdout.read()
_, status, usage = os.wait4(proc.pid, 0)
code = os.waitstatus_to_exitcode(status)
cpu = usage.ru_utime + usage.ru_stime
print(json.dumps({"peak_mb": usage.ru_maxrss / 1024, "cpu_s": cpu, "code": code, "stdout": out}))
sys.exit(code)
"""


def run_child(python: str, args: list[str], *, cwd: Path, env: dict[str, str]) -> Run:
    """Run ``python args`` to completion; its wall time, CPU time and peak RSS (MiB)."""
    started = time.perf_counter()
    proc = subprocess.run(
        [python, "-c", WRAPPER, python, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{args[:3]} exited {proc.returncode}: {proc.stderr[-2000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return Run(seconds, result["cpu_s"], result["peak_mb"], result["stdout"])


def child_env() -> dict[str, str]:
    """The process environment without lakehouse variables, the project importable."""
    prefixes = ("LAKEHOUSE_", "ICEBERG_", "S3_", "ALERT_", "AWS_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env["PYTHONPATH"] = str(PROJECT_DIR)
    return env


@contextmanager
def lake(
    rows: int, args: argparse.Namespace, work: Path, catalog: str
) -> Iterator[tuple[Path, Settings]]:
    """A lake of ``rows`` events in ``catalog`` (sql, or rest: its server running
    until the block ends); its root directory (with the project's env file) and settings."""
    root = work / f"{catalog}-rows-{rows}"
    root.mkdir(parents=True)
    rest_uri, server = None, None
    if catalog == "rest":
        from tests.servers import start_iceberg_rest

        server, rest_uri = start_iceberg_rest(root, warehouse=warehouse_uri(root))
    try:
        settings = build_lake(root, rows, args.rows_per_day, args.access_level, rest_uri)
        write_env_file(root / "project", env_values(root, args.access_level, rest_uri))
        yield root, settings
    finally:
        if server is not None:
            server.stop()


def bench_size(
    rows: int, args: argparse.Namespace, work: Path, catalog: str
) -> dict[str, float | int | str]:
    """Median wall and CPU, highest peak RSS of runs on a lake of ``rows`` events."""
    with lake(rows, args, work, catalog) as (root, settings):
        return measure(rows, args, root, settings) | {"catalog": catalog}


def measure(
    rows: int, args: argparse.Namespace, root: Path, settings: Settings
) -> dict[str, float | int]:
    project = root / "project"
    files = data_files(settings)
    env = child_env()
    gate_args = ["-m", "lakehouse.quality.gate", "--env", ENVIRONMENT, "--project-dir"]
    gate_args += [str(project), "--out", str(root / "gate.json"), *PIPELINE_GATE_ARGS]
    gate_args += args.gate_arg
    extensions = [str(path) for path in extension_files().values()]
    bare_args = ["-c", BARE_DUCKDB, metadata_location(settings), *extensions]
    gates, bares = [], []
    for _ in range(args.repeat):  # alternating, so load on the machine hits both alike
        gates.append(run_child(args.python, gate_args, cwd=root, env=env))
        report = json.loads((root / "gate.json").read_text())
        if report["outcome"] != "pass":
            raise RuntimeError(f"the gate did not pass at {rows} rows: {report}")
        counted = {t["name"]: t["row_count"] for t in report["tables"]}["event_stream"]
        if counted != rows:
            raise RuntimeError(f"the gate read {counted} events, not {rows}")
        bares.append(run_child(args.python, bare_args, cwd=root, env=env))
        if json.loads(bares[-1].stdout.splitlines()[-1])["rows"] != rows:
            raise RuntimeError(f"bare DuckDB counted {bares[-1].stdout}, not {rows} rows")
    return {
        "rows": rows,
        "files": len(files),
        "parquet_mb": sum(os.path.getsize(f) for f in files) / 2**20,
        "gate_s": statistics.median([r.seconds for r in gates]),
        "gate_cpu_s": statistics.median([r.cpu_seconds for r in gates]),
        "gate_mb": max(r.peak_mb for r in gates),
        "duckdb_s": statistics.median([r.seconds for r in bares]),
        "duckdb_cpu_s": statistics.median([r.cpu_seconds for r in bares]),
        "duckdb_mb": max(r.peak_mb for r in bares),
    }


def render(results: list[dict[str, float | int | str]]) -> str:
    smallest = {}  # per catalog: the peak RSS of its first (smallest) size
    lines = [
        "| catalog | rows | data files | Parquet MiB | gate wall s | gate CPU s "
        "| gate peak RSS MiB | RSS above smallest MiB | bare DuckDB wall s | bare DuckDB CPU s "
        "| bare DuckDB peak RSS MiB | gate / bare wall | gate / bare CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        first = smallest.setdefault(r["catalog"], r["gate_mb"])
        lines.append(
            f"| {r['catalog']} | {r['rows']:,} | {r['files']} | {r['parquet_mb']:.1f} "
            f"| {r['gate_s']:.2f} "
            f"| {r['gate_cpu_s']:.2f} | {r['gate_mb']:.0f} | {r['gate_mb'] - first:+.0f} "
            f"| {r['duckdb_s']:.2f} | {r['duckdb_cpu_s']:.2f} | {r['duckdb_mb']:.0f} "
            f"| {r['gate_s'] / r['duckdb_s']:.2f}x | {r['gate_cpu_s'] / r['duckdb_cpu_s']:.2f}x |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.gate_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", default="100000,1000000,4000000", help="event rows, commas")
    parser.add_argument("--large", action="store_true", help="also 2e7 rows (after --sizes)")
    parser.add_argument(
        "--rows-per-day",
        type=int,
        default=100_000,
        help="events per daily append: the table grows by days, as the daily asset writes "
        "it, so its data files keep one size (8 per day, one per customer bucket)",
    )
    parser.add_argument("--access-level", choices=("admin", "reader"), default="reader")
    parser.add_argument("--catalogs", default="sql,rest", help="comma-separated: sql, rest")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size (medians)")
    parser.add_argument("--python", default=sys.executable, help="interpreter with Soda")
    parser.add_argument("--work-dir", type=Path, help="keep the tables here (default: temp)")
    parser.add_argument(
        "--gate-arg",
        action="append",
        default=[],
        help="extra gate argument (repeatable); --gate-arg=--duckdb-path --gate-arg=FILE "
        "measures a gate that publishes for `soda scan`",
    )
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")] + ([20_000_000] if args.large else [])
    catalogs = [c for c in args.catalogs.split(",") if c]
    if unknown := set(catalogs) - {"sql", "rest"}:
        parser.error(f"--catalogs: unknown {sorted(unknown)}; allowed: sql, rest")
    if "rest" in catalogs:
        from tests.servers import iceberg_rest_problem

        if problem := iceberg_rest_problem():
            print(f"gate_bench: REST catalog skipped: {problem}", file=sys.stderr)
            catalogs.remove("rest")
    with tempfile.TemporaryDirectory(prefix="gate-bench-") as tmp:
        work = args.work_dir or Path(tmp)
        results = []
        for catalog in catalogs:
            for rows in sizes:
                results.append(bench_size(rows, args, work, catalog))
                print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    load = os.getloadavg()[0]
    print(
        f"cpus: {os.cpu_count()}, access level: {args.access_level}, "
        f"rows per day: {args.rows_per_day:,}, runs per size: {args.repeat}, "
        f"load average at the end: {load:.1f}"
    )
    print(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
