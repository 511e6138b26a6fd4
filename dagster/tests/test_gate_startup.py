"""The gate's start-up and the profile of its phases (benchmarks.gate_phases).

Most of a small gate's time is start-up: these tests keep Soda's import free of
setuptools and keep the phase profiler working against the gate's current functions.
"""

from __future__ import annotations

import json
import subprocess

from tests.conftest import PROJECT_DIR, process_env

SODA_IMPORT = (
    "import json, sys; from lakehouse.quality.soda_scan import load_soda; scan = load_soda(); "
    "print(json.dumps({'scan': scan.__module__, "
    "'setuptools': sorted(m for m in ('setuptools', 'pkg_resources') if m in sys.modules), "
    "'distutils': sys.modules['distutils'].__file__}))"
)


def test_soda_is_imported_without_setuptools(soda_python):
    """Soda imports distutils for strtobool; setuptools' shim would answer with its own
    copy and import setuptools and pkg_resources (a third of Soda's import time)."""
    proc = subprocess.run(
        [soda_python, "-W", "error::DeprecationWarning", "-c", SODA_IMPORT],
        capture_output=True,
        text=True,
        check=True,
        env=process_env(),
    )
    loaded = json.loads(proc.stdout)
    assert loaded["scan"] == "soda.scan"
    assert loaded["setuptools"] == [], "Soda's import pulled in setuptools"
    assert "setuptools" not in loaded["distutils"]


def test_the_phase_profile_covers_a_passing_gate(soda_python, tmp_path):
    proc = subprocess.run(
        [
            *(soda_python, "-m", "benchmarks.gate_phases", "--rows", "2000"),
            *("--rows-per-day", "1000", "--repeat", "1", "--work-dir", str(tmp_path)),
        ],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
        env=process_env(),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = {line.split("|")[1].strip() for line in proc.stdout.splitlines() if "|" in line}
    for phase in (
        "import pyiceberg",
        "import soda",
        "open the catalog",
        "plan scans",
        "copy event_stream",
        "Soda scan event_stream",
        "publish the snapshot",
        "report",
    ):
        assert phase in rows, f"{phase} missing from\n{proc.stdout}"
    phases = json.loads((tmp_path / "rows-2000" / "phases.json").read_text())["phases"]
    assert phases["copy event_stream"]["calls"] == 1
