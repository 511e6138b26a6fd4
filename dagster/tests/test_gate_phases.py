"""The profile of the gate's phases (benchmarks.gate_phases) stays in step with the gate.

The profiler wraps the gate's functions by name; when one is renamed or moved, this
fails instead of the profile silently missing a phase.
"""

from __future__ import annotations

import json
import subprocess

from tests.conftest import PROJECT_DIR, process_env


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
        "DuckDB and its extensions",
        "plan scans",
        "views",
        "Soda scan event_stream",
        "publish the snapshot",
        "report",
    ):
        assert phase in rows, f"{phase} missing from\n{proc.stdout}"
    phases = json.loads((tmp_path / "rows-2000" / "phases.json").read_text())["phases"]
    assert phases["views"]["calls"] == 3  # one per table with checks
