"""One Soda Core v3 scan per table over the snapshot's DuckDB connection.

Runs in the Soda virtualenv. Soda's pitfalls are handled here: a scan with no checks
only warns (the report makes a table without evaluated checks an ``error``), and
``add_*``/``execute`` log errors instead of raising (``has_error_logs`` is read).

Soda is imported on the first scan (:func:`load_soda`), without the setuptools that
its ``distutils`` import would otherwise drag in.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakehouse.config import PROJECT_DIR
from lakehouse.quality.report import CheckResult, TableResult, normalize_value

if TYPE_CHECKING:
    from soda.scan import Scan

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


def _stdlib_distutils() -> None:
    """Import the standard library's ``distutils.util``, not setuptools' copy.

    Soda imports ``distutils.util`` for ``strtobool`` alone. Where setuptools is
    installed (virtualenvs, the python images), its import shim answers that with
    ``setuptools._distutils``, which imports setuptools and pkg_resources: about 0.2 s
    of CPU and 11 MiB per gate, a third of Soda's import. Without a standard
    ``distutils`` (Python >= 3.12) setuptools' is imported as before.
    """
    if "distutils" in sys.modules:
        return
    shims = [f for f in sys.meta_path if type(f).__module__ == "_distutils_hack"]
    for shim in shims:
        sys.meta_path.remove(shim)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # distutils in 3.10, 3.11
            import distutils.util  # noqa: F401
    except ImportError:
        pass
    finally:
        sys.meta_path[:0] = shims


def load_soda() -> type[Scan]:
    """Soda's ``Scan`` (imported on first use)."""
    if "soda.scan" not in sys.modules:
        _stdlib_distutils()
    from soda.scan import Scan

    return Scan


def _explain(errors: str) -> str:
    if "Out of Memory" in errors:
        errors += (
            "\n(DuckDB ran out of the memory the gate gives it: start higher with "
            "--memory-limit, e.g. --memory-limit 1GiB)"
        )
    return errors


def scan_table(con: Any, name: str, checks_file: Path, environment: str) -> TableResult:
    """Run ``checks_file`` against the view ``name``; the table's checks and errors."""
    result = TableResult(name=name, checks_file=checks_name(checks_file))
    scan = load_soda()()
    scan.disable_telemetry()
    scan.set_scan_definition_name(f"lakehouse-{environment}-{name}")
    scan.set_data_source_name(DATA_SOURCE)
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
