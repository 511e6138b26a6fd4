"""Quality gate: Soda Core v3 checks over an environment's Iceberg tables, read in place.

Runs in the Soda virtualenv (soda-core-duckdb 3.5.6 on DuckDB 1.5 with its iceberg,
avro and httpfs extensions from their wheels); imports only the standard library,
pyiceberg, duckdb, soda and lakehouse.{config,catalog,tables,quality}, and with
``--branch`` lakehouse.wap (requests and pyiceberg: no Dagster).

    python -m lakehouse.quality.gate --env dev --out gate.json --markdown gate.md \
        [--incremental [--since-report last-pass.json]] [--branch audit-<release id>] \
        [--commit SHA --runtime-image REPO@sha256:... --gate-image REPO@sha256:...]

Flow: ``.env.<env>`` (plus exported variables) -> pyiceberg pins each table's snapshot
(the current one, or with ``--branch`` the branch's head as lakehouse.wap resolves it)
and plans its scan (full, or only the appends since its last passing snapshot; equality
deletes refused) -> a new DuckDB file with one view per table over DuckDB's Iceberg
reader where the table lies (local files, s3://, gs://; positional deletes applied, PII
masked in SQL unless admin: reading.py) -> one Soda scan per
``soda_checks/<table>_checks.yaml`` with DuckDB's memory limited -> the file swapped in
as ``.soda/<env>/lakehouse.duckdb`` when every table of the published state was read
in full (a branch's views are never published there unless --duckdb-path says so; the file
configuration.yaml points at, so ``soda scan`` works afterwards) -> one normalized
report naming the release it judged and the snapshot of every table. Exit codes: 0
pass, 1 fail, 2 warn, 3 error. Every error (bad configuration, usage, a crash) is exit
3 with an ``error`` report whenever the report path can be written.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import sys
import threading
import traceback
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakehouse.config import ConfigError, Settings
from lakehouse.quality.cli import UsageError, build_parser, salvage
from lakehouse.quality.duck import MIB, ExtensionMissing, memory_ceiling
from lakehouse.quality.duck import extension_files as duck_extensions
from lakehouse.quality.incremental import (
    BaseError,
    record_passing,
    recorded_bases,
    report_bases,
    state_path,
)
from lakehouse.quality.report import (
    EXIT_CODES,
    Release,
    TableResult,
    build_report,
    render_markdown,
)
from lakehouse.quality.snapshot import Snapshot, default_path
from lakehouse.quality.soda_scan import (
    CHECKS_DIR,
    check_files,
    checks_name,
    import_soda,
    scan_table,
)

if TYPE_CHECKING:
    from lakehouse.quality.reading import TableState

GATE_VERSION = "3.1.0"
EXIT_ERROR = EXIT_CODES["error"]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def tool_versions() -> dict[str, str]:
    versions = {"lakehouse-gate": GATE_VERSION, "python": platform.python_version()}
    # The extensions' version is DuckDB's: the gate loads them from v<duckdb version>/.
    for dist in ("soda-core", "soda-core-duckdb", "duckdb", "pyiceberg", "pyarrow"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "not-installed"
    return versions


@dataclass(frozen=True)
class Options:
    """How the gate reads the tables (from the command line)."""

    duckdb_path: str
    memory_limit: int | None = None  # bytes; None: per DuckDB thread
    incremental: bool = False
    bases: dict[str, str] | None = None  # passing snapshot per table (incremental)
    branch: str | None = None  # judge this branch's head; None: the published state
    publish: bool = True  # swap the views in for `soda scan` after complete full reads


@contextlib.contextmanager
def collecting_after_startup() -> Iterator[None]:
    """Python's cycle collector paused while the gate starts: importing pyiceberg,
    SQLAlchemy and Soda makes hundreds of thousands of long-lived objects and ran the
    collector over them again and again (about 0.3 s of CPU and wall time of a gate
    run). :func:`startup_done` resumes it with those objects kept out of its passes."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def startup_done() -> None:
    """The imports and reads are done: what they made stays (frozen), collection resumes."""
    gc.freeze()
    gc.enable()


def _scan(snapshot: Snapshot, name: str, path: Path, environment: str) -> TableResult:
    """Scan ``name``; when its checks run out of DuckDB's memory, again with twice as much
    (up to half of the machine's memory), so memory grows only where the checks need it."""
    start = snapshot.memory_limit
    ceiling = max(memory_ceiling(), start)
    raised = None
    while True:
        result = scan_table(snapshot.con, name, path, environment)
        out_of_memory = "Out of Memory" in (result.error or "")
        if not out_of_memory or snapshot.memory_limit * 2 > ceiling:
            snapshot.limit_memory(start)  # the next table starts small again
            result.note = raised
            return result
        snapshot.limit_memory(snapshot.memory_limit * 2)
        raised = f"checks ran again with {snapshot.memory_limit // MIB} MiB for DuckDB"
        print(f"quality gate {environment}: {name}: {raised}", file=sys.stderr)


def _result(name: str, path: Path, info: TableState, snapshot: Snapshot, env: str) -> TableResult:
    if info.error:
        table = TableResult(name=name, checks_file=checks_name(path), error=info.error)
    else:
        table = _scan(snapshot, name, path, env)
    table.mode, table.row_count = info.mode, info.row_count
    table.snapshot_id, table.base_snapshot_id = info.snapshot_id, info.base_snapshot_id
    table.note = "; ".join(n for n in (info.note, table.note) if n) or None
    return table


def open_snapshot(options: Options, *, soda: bool = True) -> Snapshot:
    """The snapshot's DuckDB (loading its extensions: a third of a second, mostly outside
    Python's lock), made in a thread while this one imports pyiceberg and Soda."""
    made: list[Snapshot] = []
    failed: list[BaseException] = []

    def make() -> None:
        try:
            made.append(Snapshot(options.duckdb_path, memory_limit=options.memory_limit))
        except BaseException as exc:
            failed.append(exc)

    worker = threading.Thread(target=make, name="gate-duckdb")
    worker.start()
    try:
        import lakehouse.quality.reading  # noqa: F401 (pyiceberg)

        if soda:
            import_soda()
    finally:
        worker.join()
    if failed:
        raise failed[0]
    return made[0]


def run_gate(
    settings: Settings, options: Options, release: Release
) -> tuple[dict[str, Any], dict[str, str]]:
    """Read, scan and judge every table with checks; the report and notes by table."""
    started = _now()
    files = check_files()
    errors: list[str] = []
    results: list[TableResult] = []
    snapshot = open_snapshot(options)
    from lakehouse.quality.reading import TableState, full_reads, read_tables

    try:
        state = read_tables(
            settings,
            list(files),
            snapshot.con,
            incremental=options.incremental,
            bases=options.bases,
            branch=options.branch,
        )
        startup_done()
        for name, path in files.items():
            info = state.get(name, TableState(error="not read"))
            results.append(_result(name, path, info, snapshot, settings.environment))
        # `soda scan` gets only complete, full reads of what it was asked for: an
        # incremental gate, or a branch's (unpublished data), leaves the previous snapshot.
        if options.publish and full_reads(state):
            snapshot.publish()
        else:
            snapshot.discard()
    except BaseException:
        snapshot.discard()
        raise
    if not files:
        errors.append(f"no *_checks.yaml files in {CHECKS_DIR}")
    report = build_report(
        environment=settings.environment,
        access_level=settings.access_level,
        catalog={
            "type": settings.catalog_type,
            "uri": settings.catalog_uri,
            "warehouse": settings.warehouse,
            "namespace": settings.namespace,
        },
        tables=results,
        errors=errors,
        started_at=started,
        finished_at=_now(),
        tool_versions=tool_versions(),
        release=release,
        branch=options.branch,
    )
    return report, {t.name: t.note for t in results if t.note}


def refresh_snapshot(settings: Settings, options: Options) -> dict[str, TableState]:
    """Only (re)write the snapshot ``soda scan`` reads; the previous one on failure."""
    snapshot = open_snapshot(options, soda=False)
    from lakehouse.quality.reading import complete, read_tables

    try:
        state = read_tables(settings, list(check_files()), snapshot.con)
    except BaseException:
        snapshot.discard()
        raise
    if complete(state):
        snapshot.publish()
    else:
        snapshot.discard()
    return state


def error_report(
    environment: str, message: str, release: Release | None = None, branch: str | None = None
) -> dict[str, Any]:
    now = _now()
    return build_report(
        environment=environment,
        access_level="unknown",
        catalog={},
        tables=[],
        errors=[message],
        started_at=now,
        finished_at=now,
        tool_versions=tool_versions(),
        release=release or Release(),
        branch=branch,
    )


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_outputs(
    report: dict[str, Any],
    out: Path,
    markdown: Path | None,
    notes: dict[str, str] | None = None,
) -> int:
    """Write the report (and markdown); the exit code. A write failure is exit 3, and
    the JSON then says ``error`` if it can still be written."""
    try:
        _write_atomically(out, json.dumps(report, indent=2) + "\n")
        if markdown:
            _write_atomically(markdown, render_markdown(report, notes))
    except OSError as exc:
        message = (
            f"cannot write the report: {exc}; make --out and --markdown name files in "
            "writable directories"
        )
        print(f"quality gate {report['environment']}: error: {message}", file=sys.stderr)
        # The JSON must not say pass when the gate exits 3 (e.g. only the markdown failed).
        with contextlib.suppress(OSError):
            release = Release(**report["release"])
            failed = error_report(report["environment"], message, release, report.get("branch"))
            _write_atomically(out, json.dumps(failed, indent=2) + "\n")
        return EXIT_ERROR
    for table, note in sorted((notes or {}).items()):
        print(f"quality gate {report['environment']}: {table}: {note}")
    print(f"quality gate {report['environment']}: {report['outcome']} ({report['mode']}) -> {out}")
    return report["exit_code"]


def _options(args: argparse.Namespace, settings: Settings) -> Options:
    """The reading options; BaseError when --since-report cannot be used."""
    duckdb_path = args.duckdb_path or str(default_path(args.project_dir, settings.environment))
    incremental = args.incremental or args.since_report is not None
    bases: dict[str, str] = {}
    if args.since_report is not None:
        bases = report_bases(args.since_report, settings.environment)
    elif incremental:
        bases, problem = recorded_bases(
            state_path(args.project_dir, settings.environment), settings.environment
        )
        if problem:
            print(f"quality gate {settings.environment}: {problem}: full scans", file=sys.stderr)
    # A branch's views name unpublished data: `soda scan` readers never get them
    # unless --duckdb-path asks for a file.
    publish = args.branch is None or args.duckdb_path is not None
    return Options(duckdb_path, args.memory_limit, incremental, bases, args.branch, publish)


def _run(args: argparse.Namespace) -> int:
    release = Release(args.commit, args.runtime_image, args.gate_image)
    try:
        settings = Settings.for_environment(args.env, project_dir=args.project_dir)
        if args.materialize_only and (args.incremental or args.since_report):
            raise ConfigError("--materialize-only reads whole tables: drop --incremental")
        if args.materialize_only and args.branch:
            raise ConfigError(
                "--materialize-only refreshes what `soda scan` reads, the published state: "
                "drop --branch (a branch is judged by the gate itself)"
            )
        options = _options(args, settings)
        duck_extensions()
    except (ConfigError, BaseError, OSError, ExtensionMissing) as exc:
        kind = "configuration error" if isinstance(exc, ConfigError | OSError) else "error"
        if args.materialize_only:
            print(f"{kind}: {exc}", file=sys.stderr)
            return EXIT_ERROR
        report = error_report(args.env, f"{kind}: {exc}", release, args.branch)
        return write_outputs(report, args.out, args.markdown)
    if args.materialize_only:
        state = refresh_snapshot(settings, options)
        print(json.dumps({name: asdict(s) for name, s in state.items()}, indent=2))
        from lakehouse.quality.reading import complete

        return EXIT_ERROR if not complete(state) else 0
    report, notes = run_gate(settings, options, release)
    code = write_outputs(report, args.out, args.markdown, notes)
    if code == report["exit_code"]:  # the report was written: remember what passed
        try:
            record_passing(state_path(args.project_dir, settings.environment), report)
        except OSError as exc:
            print(f"quality gate {settings.environment}: not recorded: {exc}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        environment, out, markdown = salvage(argv)
        write_outputs(error_report(environment, f"usage error: {exc}"), out, markdown)
        return EXIT_ERROR
    try:
        with collecting_after_startup():
            return _run(args)
    except Exception as exc:  # never leave the pipeline without a report
        traceback.print_exc()
        message = f"gate crashed: {type(exc).__name__}: {exc}"
        if args.materialize_only:
            return EXIT_ERROR
        release = Release(args.commit, args.runtime_image, args.gate_image)
        report = error_report(args.env, message, release, args.branch)
        write_outputs(report, args.out, args.markdown)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
