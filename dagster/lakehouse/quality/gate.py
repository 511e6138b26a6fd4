"""Quality gate: Soda Core v3 checks over an environment's Iceberg tables.

Runs in the Soda virtualenv (soda-core-duckdb 3.5.x, duckdb<1.1); imports only the
standard library, pyiceberg, duckdb, soda and lakehouse.{config,catalog,tables,quality}.

    python -m lakehouse.quality.gate --env dev --out gate.json --markdown gate.md

Flow: ``.env.<env>`` (plus exported variables) -> pyiceberg reads each table (PII masked
unless admin) -> Arrow -> a new DuckDB file swapped in as ``.soda/<env>/lakehouse.duckdb``
when every table was read (the file configuration.yaml points at, so ``soda scan``
works afterwards) -> one Soda scan per ``soda_checks/<table>_checks.yaml`` -> one
normalized report. Exit codes: 0 pass, 1 fail, 2 warn, 3 error. Every error (bad
configuration, usage, a crash) is exit 3 with an ``error`` report whenever the report
path can be written.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import traceback
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from lakehouse.config import PROJECT_DIR, ConfigError, Settings
from lakehouse.quality.report import (
    EXIT_CODES,
    CheckResult,
    TableResult,
    build_report,
    normalize_value,
    render_markdown,
)
from lakehouse.quality.snapshot import Snapshot, complete, default_path, materialize

CHECKS_DIR = Path(__file__).with_name("soda_checks")
DATA_SOURCE = "lakehouse"
GATE_VERSION = "1.1.0"
EXIT_ERROR = EXIT_CODES["error"]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def tool_versions() -> dict[str, str]:
    versions = {"lakehouse-gate": GATE_VERSION, "python": platform.python_version()}
    for dist in ("soda-core", "soda-core-duckdb", "duckdb", "pyiceberg", "pyarrow"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "not-installed"
    return versions


def check_files(checks_dir: Path = CHECKS_DIR) -> dict[str, Path]:
    """Map table name -> checks file (``<table>_checks.yaml``)."""
    return {
        p.name.removesuffix("_checks.yaml"): p for p in sorted(checks_dir.glob("*_checks.yaml"))
    }


def _checks_name(path: Path) -> str:
    return str(path.relative_to(PROJECT_DIR))


def scan_table(con: Any, name: str, checks_file: Path, environment: str) -> TableResult:
    from soda.scan import Scan

    result = TableResult(name=name, checks_file=_checks_name(checks_file))
    scan = Scan()
    scan.disable_telemetry()
    scan.set_scan_definition_name(f"lakehouse-{environment}-{name}")
    scan.set_data_source_name(DATA_SOURCE)
    scan.add_duckdb_connection(con, data_source_name=DATA_SOURCE)
    scan.add_sodacl_yaml_file(str(checks_file))
    try:
        scan.execute()
    except Exception as exc:
        result.error = f"soda scan crashed: {exc}"
        return result
    evaluated = set()
    for check in scan.get_scan_results().get("checks", []):
        evaluated.add(check["name"])
        result.checks.append(
            CheckResult(
                name=check["name"],
                outcome=check["outcome"],
                measured_value=normalize_value(check.get("diagnostics", {}).get("value")),
                column=check.get("column"),
                definition=check.get("definition"),
            )
        )
    for check in scan._checks:  # checks Soda could not evaluate have no outcome
        if check.outcome is None and check.name not in evaluated:
            result.checks.append(CheckResult(name=check.name, outcome="not_evaluated"))
    if scan.has_error_logs():
        result.error = (scan.get_error_logs_text() or "soda reported errors").strip()[:2000]
    return result


def run_gate(settings: Settings, duckdb_path: str) -> dict[str, Any]:
    started = _now()
    files = check_files()
    errors: list[str] = []
    results: list[TableResult] = []
    snapshot = Snapshot(duckdb_path)
    try:
        state = materialize(settings, list(files), snapshot.con)
        for name, path in files.items():
            info = state.get(name, {})
            if "error" in info:
                results.append(
                    TableResult(name=name, checks_file=_checks_name(path), error=info["error"])
                )
                continue
            table = scan_table(snapshot.con, name, path, settings.environment)
            table.row_count = info.get("row_count")
            table.snapshot_id = info.get("snapshot_id")
            results.append(table)
        if complete(state):
            snapshot.publish()
        else:
            snapshot.discard()
    except BaseException:
        snapshot.discard()
        raise
    if not files:
        errors.append(f"no *_checks.yaml files in {CHECKS_DIR}")
    return build_report(
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
    )


def refresh_snapshot(settings: Settings, duckdb_path: str) -> dict[str, dict[str, Any]]:
    """Only (re)write the snapshot ``soda scan`` reads; the previous one on failure."""
    snapshot = Snapshot(duckdb_path)
    try:
        state = materialize(settings, list(check_files()), snapshot.con)
    except BaseException:
        snapshot.discard()
        raise
    if complete(state):
        snapshot.publish()
    else:
        snapshot.discard()
    return state


def error_report(environment: str, message: str) -> dict[str, Any]:
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
    )


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_outputs(report: dict[str, Any], out: Path, markdown: Path | None) -> int:
    """Write the report (and markdown); the exit code. A write failure is exit 3, and
    the JSON then says ``error`` if it can still be written."""
    try:
        _write_atomically(out, json.dumps(report, indent=2) + "\n")
        if markdown:
            _write_atomically(markdown, render_markdown(report))
    except OSError as exc:
        message = (
            f"cannot write the report: {exc}; make --out and --markdown name files in "
            "writable directories"
        )
        print(f"quality gate {report['environment']}: error: {message}", file=sys.stderr)
        # The JSON must not say pass when the gate exits 3 (e.g. only the markdown failed).
        with contextlib.suppress(OSError):
            failed = error_report(report["environment"], message)
            _write_atomically(out, json.dumps(failed, indent=2) + "\n")
        return EXIT_ERROR
    print(f"quality gate {report['environment']}: {report['outcome']} -> {out}")
    return report["exit_code"]


class UsageError(Exception):
    """A command line argparse refuses (argparse would exit 2, which means warn)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message} (see --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m lakehouse.quality.gate",
        description="Scan an environment's Iceberg tables with Soda and write a gate report. "
        "Exit codes: 0 pass, 1 fail, 2 warn, 3 error (also for bad arguments or "
        "configuration, with an error report).",
    )
    parser.add_argument(
        "--env",
        required=True,
        help="environment name: reads <project-dir>/.env.<env>; exported variables "
        "override its values, except LAKEHOUSE_ENVIRONMENT, which must match",
    )
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=PROJECT_DIR,
        help="directory holding .env.<env>; the snapshot goes to its .soda/<env>/ "
        f"(default: {PROJECT_DIR})",
    )
    parser.add_argument("--out", type=Path, default=Path("gate.json"), help="JSON report path")
    parser.add_argument("--markdown", type=Path, help="also write a markdown summary here")
    parser.add_argument(
        "--duckdb-path",
        help="DuckDB file for the table snapshot (default <project-dir>/.soda/<env>/"
        "lakehouse.duckdb; ':memory:' keeps nothing)",
    )
    parser.add_argument(
        "--materialize-only",
        action="store_true",
        help="only refresh the DuckDB snapshot used by `soda scan`, no report",
    )
    return parser


def _salvage(argv: list[str]) -> tuple[str, Path, Path | None]:
    """Environment and report paths from a command line argparse refused."""
    lenient = _Parser(add_help=False)
    lenient.add_argument("--env", default="unknown")
    lenient.add_argument("--out", type=Path, default=Path("gate.json"))
    lenient.add_argument("--markdown", type=Path)
    try:
        known, _ = lenient.parse_known_args(argv)
    except UsageError:
        return "unknown", Path("gate.json"), None
    return known.env, known.out, known.markdown


def _run(args: argparse.Namespace) -> int:
    try:
        settings = Settings.for_environment(args.env, project_dir=args.project_dir)
    except (ConfigError, OSError) as exc:
        if args.materialize_only:
            print(f"configuration error: {exc}", file=sys.stderr)
            return EXIT_ERROR
        return write_outputs(
            error_report(args.env, f"configuration error: {exc}"), args.out, args.markdown
        )
    duckdb_path = args.duckdb_path or str(default_path(args.project_dir, settings.environment))
    if args.materialize_only:
        state = refresh_snapshot(settings, duckdb_path)
        print(json.dumps(state, indent=2))
        return EXIT_ERROR if not complete(state) else 0
    return write_outputs(run_gate(settings, duckdb_path), args.out, args.markdown)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        environment, out, markdown = _salvage(argv)
        write_outputs(error_report(environment, f"usage error: {exc}"), out, markdown)
        return EXIT_ERROR
    try:
        return _run(args)
    except Exception as exc:  # never leave the pipeline without a report
        traceback.print_exc()
        message = f"gate crashed: {type(exc).__name__}: {exc}"
        if args.materialize_only:
            return EXIT_ERROR
        write_outputs(error_report(args.env, message), args.out, args.markdown)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
