"""Quality gate: Soda Core v3 checks over an environment's Iceberg tables.

Runs in the Soda virtualenv (soda-core-duckdb 3.5.x, duckdb<1.1); imports only the
standard library, pyiceberg, duckdb, soda and lakehouse.{config,catalog,tables,quality}.

    python -m lakehouse.quality.gate --env dev --out gate.json --markdown gate.md

Flow: pyiceberg reads each table (PII masked unless admin) -> Arrow -> a DuckDB file
(``.soda/<env>/lakehouse.duckdb``, the same file configuration.<env>.yaml points at, so
``soda scan`` works afterwards) -> one Soda scan per ``soda_checks/<table>_checks.yaml``
-> one normalized report. Exit codes: 0 pass, 1 fail, 2 warn, 3 error.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
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

CHECKS_DIR = Path(__file__).with_name("soda_checks")
DATA_SOURCE = "lakehouse"
GATE_VERSION = "1.0.0"


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


def default_duckdb_path(environment: str) -> Path:
    return PROJECT_DIR / ".soda" / environment / "lakehouse.duckdb"


def materialize(settings: Settings, tables: list[str], duckdb_path: str) -> tuple[Any, dict]:
    """Copy each Iceberg table into DuckDB; returns the connection and per-table state."""
    import duckdb
    from pyiceberg.exceptions import NoSuchTableError

    from lakehouse.catalog import open_catalog, read_table

    if duckdb_path != ":memory:":
        Path(duckdb_path).parent.mkdir(parents=True, exist_ok=True)
        Path(duckdb_path).unlink(missing_ok=True)
    con = duckdb.connect(duckdb_path)
    state: dict[str, dict[str, Any]] = {}
    try:
        catalog = open_catalog(settings)
    except Exception as exc:  # catalog unreachable: every table is an error
        return con, {t: {"error": f"catalog unavailable: {exc}"} for t in tables}
    for name in tables:
        try:
            table = catalog.load_table((settings.namespace, name))
            snapshot = table.current_snapshot()
            data = read_table(catalog, settings, name)
        except NoSuchTableError:
            state[name] = {"error": f"table {settings.namespace}.{name} does not exist"}
            continue
        except Exception as exc:
            state[name] = {"error": f"cannot read {settings.namespace}.{name}: {exc}"}
            continue
        con.register("_incoming", data)
        con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM _incoming')
        con.unregister("_incoming")
        state[name] = {
            "row_count": data.num_rows,
            "snapshot_id": str(snapshot.snapshot_id) if snapshot else None,
        }
    con.execute("CHECKPOINT")
    return con, state


def scan_table(con: Any, name: str, checks_file: Path, environment: str) -> TableResult:
    from soda.scan import Scan

    result = TableResult(name=name, checks_file=str(checks_file.relative_to(PROJECT_DIR)))
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
    con, state = materialize(settings, list(files), duckdb_path)
    try:
        for name, path in files.items():
            info = state.get(name, {})
            if "error" in info:
                results.append(
                    TableResult(
                        name=name,
                        checks_file=str(path.relative_to(PROJECT_DIR)),
                        error=info["error"],
                    )
                )
                continue
            table = scan_table(con, name, path, settings.environment)
            table.row_count = info.get("row_count")
            table.snapshot_id = info.get("snapshot_id")
            results.append(table)
    finally:
        con.close()
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lakehouse.quality.gate",
        description="Scan an environment's Iceberg tables with Soda and write a gate report. "
        "Exit codes: 0 pass, 1 fail, 2 warn, 3 error.",
    )
    parser.add_argument("--env", required=True, help="dev, staging, prod (reads .env.<env>)")
    parser.add_argument("--out", type=Path, default=Path("gate.json"), help="JSON report path")
    parser.add_argument("--markdown", type=Path, help="also write a markdown summary here")
    parser.add_argument(
        "--duckdb-path",
        help="DuckDB file for the table snapshot (default .soda/<env>/lakehouse.duckdb; "
        "':memory:' keeps nothing)",
    )
    parser.add_argument(
        "--materialize-only",
        action="store_true",
        help="only refresh the DuckDB snapshot used by `soda scan`, no report",
    )
    args = parser.parse_args(argv)
    try:
        settings = Settings.for_environment(args.env)
    except (ConfigError, OSError) as exc:
        report = error_report(args.env, f"configuration error: {exc}")
    else:
        duckdb_path = args.duckdb_path or str(default_duckdb_path(settings.environment))
        if args.materialize_only:
            con, state = materialize(settings, list(check_files()), duckdb_path)
            con.close()
            print(json.dumps(state, indent=2))
            return 3 if any("error" in s for s in state.values()) else 0
        try:
            report = run_gate(settings, duckdb_path)
        except Exception as exc:  # never leave the pipeline without a report
            report = error_report(args.env, f"gate crashed: {type(exc).__name__}: {exc}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(render_markdown(report), encoding="utf-8")
    print(f"quality gate {report['environment']}: {report['outcome']} -> {args.out}")
    return EXIT_CODES[report["outcome"]]


if __name__ == "__main__":
    sys.exit(main())
