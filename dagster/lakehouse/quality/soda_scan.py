"""One Soda Core v3 scan per table over the gate's DuckDB connection (its views).

Runs in the Soda virtualenv. Soda's pitfalls are handled here: a scan with no checks
only warns (the report makes a table without evaluated checks an ``error``), and
``add_*``/``execute`` log errors instead of raising (``has_error_logs`` is read).
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

from lakehouse.config import PROJECT_DIR
from lakehouse.quality.report import CheckResult, TableResult, normalize_value

CHECKS_DIR = Path(__file__).with_name("soda_checks")
DATA_SOURCE = "lakehouse"


def check_files(checks_dir: Path = CHECKS_DIR) -> dict[str, Path]:
    """Map table name -> checks file (``<table>_checks.yaml``)."""
    return {
        p.name.removesuffix("_checks.yaml"): p for p in sorted(checks_dir.glob("*_checks.yaml"))
    }


def checks_name(path: Path) -> str:
    """The checks file as the report names it (relative to the project if inside it)."""
    return str(path.relative_to(PROJECT_DIR)) if path.is_relative_to(PROJECT_DIR) else str(path)


def _explain(errors: str) -> str:
    if "Out of Memory" in errors:
        errors += (
            "\n(DuckDB ran out of the memory the gate gives it: start higher with "
            "--memory-limit, e.g. --memory-limit 1GiB)"
        )
    return errors


def _stdlib_distutils() -> None:
    """Soda imports distutils only for ``strtobool``; in a virtualenv with setuptools, its
    shim answers ``import distutils`` by importing setuptools and pkg_resources (about
    0.3 s of the gate's start-up). The standard library's distutils serves Soda the same."""
    sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "DistutilsMetaFinder"]


class _NoTelemetry:
    """What Soda's ``SodaTelemetry`` singleton is to the gate when its telemetry is off:
    it records nothing."""

    @staticmethod
    def get_instance(test_mode: bool = False) -> _NoTelemetry:
        return _NO_TELEMETRY

    @staticmethod
    def obtain_datasource_hash(data_source: Any) -> None:
        return None

    def set_attribute(self, key: str, value: Any) -> None:
        pass

    def set_attributes(self, values: dict[str, Any]) -> None:
        pass


_NO_TELEMETRY = _NoTelemetry()
TELEMETRY_MODULE = "soda.telemetry.soda_telemetry"


def _no_telemetry() -> None:
    """Importing ``soda.scan`` sets up Soda's telemetry (OpenTelemetry, an exporter to
    collect.soda.io and its thread) unless ``~/.soda/config.yml`` says no; about a tenth
    of a second of the gate's start-up. The gate turns telemetry off on every scan, and
    only Soda's command line starts the spans it would send (a ``Scan`` only sets
    attributes on them): Soda's ``Scan`` gets a telemetry module that records nothing."""
    if TELEMETRY_MODULE not in sys.modules:
        module = types.ModuleType(TELEMETRY_MODULE)
        module.SodaTelemetry = _NoTelemetry  # type: ignore[attr-defined]
        sys.modules[TELEMETRY_MODULE] = module


def import_soda() -> None:
    """Import Soda (about a quarter of a second), standard-library distutils first and
    without its telemetry."""
    _stdlib_distutils()
    _no_telemetry()
    import soda.scan  # noqa: F401


def scan_table(con: Any, name: str, checks_file: Path, environment: str) -> TableResult:
    """Run ``checks_file`` against the view ``name``; the table's checks and errors."""
    import_soda()
    from soda.scan import Scan

    result = TableResult(name=name, checks_file=checks_name(checks_file))
    scan = Scan()
    scan.disable_telemetry()
    scan.set_scan_definition_name(f"lakehouse-{environment}-{name}")
    scan.set_data_source_name(DATA_SOURCE)
    # No failed-rows samples: the report has none, and each sample query reads the table
    # again (Soda runs one per missing/invalid check with a count above zero, passing or
    # not). Soda's configuration file cannot say 0 (it ignores a falsy samples_limit).
    scan._configuration.samples_limit = 0
    scan.add_duckdb_connection(con, data_source_name=DATA_SOURCE)
    scan.add_sodacl_yaml_file(str(checks_file))
    try:
        scan.execute()
    except Exception as exc:
        result.error = _explain(f"soda scan crashed: {exc}")
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
        errors = (scan.get_error_logs_text() or "soda reported errors").strip()
        result.error = _explain(errors)[:2000]
    return result
