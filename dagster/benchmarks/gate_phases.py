"""Where the quality gate's time goes: its phases, one gate run at a time.

Builds (or reuses) the benchmark's lake of ``--rows`` events (benchmarks.lakegen), then
runs the gate ``--repeat`` times, each in its own child process of the Soda virtualenv
as the pipeline does (``lakehouse.quality.gate.main``), with timers around its phases:
interpreter start-up, the imports, DuckDB with its extensions, opening the catalog,
loading and planning each table, the views over DuckDB's Iceberg reader, their row
counts, the Soda scans, publishing the snapshot, and the report. It prints the median
wall and CPU time of every phase (CPU of all threads: DuckDB's count where it runs)
and the peak RSS reached by its end. Not a test; run it from ``dagster/``::

    .venv-soda/bin/python -m benchmarks.gate_phases --rows 4000000
    .venv-soda/bin/python -m benchmarks.gate_phases --rows 100000 --work-dir /tmp/lakes

With ``--work-dir`` a lake built before (by this or by benchmarks.gate_bench with the
same ``--work-dir``) is reused.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.gate_bench import PIPELINE_GATE_ARGS, PROJECT_DIR, child_env
from benchmarks.lakegen import ENVIRONMENT, build_lake, env_values, write_env_file

# The child: argv = [started (epoch seconds), phases.json, gate arguments...].
CHILD = r"""
import gc, json, resource, sys, time
gc.disable()  # as the gate's start-up runs (gate.collecting_after_startup)
started, out, argv = float(sys.argv[1]), sys.argv[2], sys.argv[3:]
phases = {}
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
def add(name, wall, used):
    p = phases.setdefault(name, {"wall": 0.0, "cpu": 0.0, "calls": 0})
    p["wall"] += wall; p["cpu"] += used; p["calls"] += 1; p["peak_mb"] = peak()
add("interpreter start-up", time.time() - started, cpu())
def step(name, fn):
    t, c = time.perf_counter(), cpu()
    fn()
    add(name, time.perf_counter() - t, cpu() - c)
step("import duckdb", lambda: __import__("duckdb"))
step("import pyiceberg", lambda: __import__("pyiceberg.table"))
def import_soda():  # as the gate imports it (no setuptools shim, no telemetry)
    from lakehouse.quality.soda_scan import import_soda
    import_soda()
step("import soda", import_soda)
step("import the gate", lambda: __import__("lakehouse.quality.gate"))
from lakehouse import catalog
from lakehouse.quality import duck, gate, reading, snapshot
def timed(name, fn, label=None):
    def wrapper(*args, **kwargs):
        t, c = time.perf_counter(), cpu()
        try:
            return fn(*args, **kwargs)
        finally:
            what = name if label is None else f"{name} {label(*args)}"
            add(what, time.perf_counter() - t, cpu() - c)
    return wrapper
open_catalog = catalog.open_catalog
def opened(settings, **properties):
    found = timed("open the catalog", open_catalog)(settings, **properties)
    found.load_table = timed("load tables", found.load_table)
    return found
catalog.open_catalog = opened
snapshot.duck.connect = timed("DuckDB and its extensions", duck.connect)
reading.add_storage_secret = timed("storage credentials", reading.add_storage_secret)
reading.plan_scan = timed("plan scans", reading.plan_scan)
reading.scan_for = timed("plan scans", reading.scan_for)
reading.plan = timed("plan scans", reading.plan)
reading._view = timed("views", reading._view)
reading.row_count = timed("row counts", reading.row_count)
Snapshot = snapshot.Snapshot
Snapshot.publish = timed("publish the snapshot", Snapshot.publish)
Snapshot.discard = timed("publish the snapshot", Snapshot.discard)
gate.scan_table = timed("Soda scan", gate.scan_table, lambda *a: a[1])
for name in ("build_report", "write_outputs", "record_passing"):
    setattr(gate, name, timed("report", getattr(gate, name)))
code = gate.main(argv)
total = time.time() - started
add("other (settings, exit)", total - sum(p["wall"] for p in phases.values()), 0.0)
other = phases["other (settings, exit)"]
other["cpu"] = cpu() - sum(p["cpu"] for p in phases.values())
with open(out, "w") as f:
    json.dump({"code": code, "total": total, "cpu": cpu(), "peak_mb": peak(), "phases": phases}, f)
"""


def lake(rows: int, args: argparse.Namespace, work: Path) -> Path:
    """The lake of ``rows`` events under ``work`` (built unless it is there already)."""
    root = work / f"rows-{rows}"
    if not (root / "catalog.db").exists():
        build_lake(root, rows, args.rows_per_day, args.access_level)
    write_env_file(root / "project", env_values(root, args.access_level))
    return root


def run_once(python: str, root: Path) -> dict:
    out = root / "phases.json"
    gate = ["--env", ENVIRONMENT, "--project-dir", str(root / "project")]
    gate += ["--out", str(root / "gate.json"), *PIPELINE_GATE_ARGS]
    started = time.time()
    proc = subprocess.run(
        [python, "-c", CHILD, repr(started), str(out), *gate],
        cwd=root,
        env=child_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    result = json.loads(out.read_text()) if proc.returncode == 0 else {}
    if result.get("code") != 0:
        raise RuntimeError(f"the gate did not pass ({proc.returncode}): {proc.stderr[-2000:]}")
    return result


def render(runs: list[dict]) -> str:
    names = list(runs[0]["phases"])
    total = statistics.median(r["total"] for r in runs)
    lines = [
        "| phase | calls | wall s | CPU s | share of wall | peak RSS MiB by its end |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in names:
        got = [r["phases"][name] for r in runs if name in r["phases"]]
        wall = statistics.median(p["wall"] for p in got)
        cpu = statistics.median(p["cpu"] for p in got)
        lines.append(
            f"| {name} | {got[0]['calls']} | {wall:.2f} | {cpu:.2f} | {wall / total:.0%} "
            f"| {max(p['peak_mb'] for p in got):.0f} |"
        )
    cpu = statistics.median(r["cpu"] for r in runs)
    peak = max(r["peak_mb"] for r in runs)
    lines.append(f"| **total** | | **{total:.2f}** | **{cpu:.2f}** | 100% | **{peak:.0f}** |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.gate_phases",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rows", type=int, default=4_000_000, help="event rows")
    parser.add_argument("--rows-per-day", type=int, default=100_000)
    parser.add_argument("--access-level", choices=("admin", "reader"), default="reader")
    parser.add_argument("--repeat", type=int, default=3, help="gate runs (medians)")
    parser.add_argument("--python", default=sys.executable, help="interpreter with Soda")
    parser.add_argument("--work-dir", type=Path, help="keep (and reuse) the lake here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gate-phases-") as tmp:
        root = lake(args.rows, args, args.work_dir or Path(tmp))
        runs = [run_once(args.python, root) for _ in range(args.repeat)]
    print(
        f"rows: {args.rows:,}, access level: {args.access_level}, runs: {args.repeat}, "
        f"project: {PROJECT_DIR}"
    )
    print(render(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
