"""dagster/deploy/gate.sh, the one-off gate task of a deployed environment, run as the
task runs it (``/bin/sh -c <script> quality-gate <args>``, settings in its variables)
against a local lake, its report "uploaded" to a local directory."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.conftest import PROJECT_DIR, process_env

GATE_SH = PROJECT_DIR / "deploy" / "gate.sh"
RUN_ID = "zzrun-1"


def run_task(soda_python: str, lake_env: dict[str, str], work: Path, *args: str):
    """The task's exit code, its report (as uploaded) and its temporary directory."""
    tmp, reports = work / "tmp", work / "reports"
    tmp.mkdir(parents=True)
    variables = {
        **lake_env,
        "GATE_REPORT_URI": reports.as_uri(),
        "GATE_RUN_ID": RUN_ID,
        "TMPDIR": str(tmp),
        # `python` in the gate image is the Soda virtualenv's
        "PATH": f"{Path(soda_python).parent}{os.pathsep}{os.environ['PATH']}",
    }
    proc = subprocess.run(
        ["/bin/sh", "-c", GATE_SH.read_text(), "quality-gate", *args],
        cwd=work,
        env=process_env(**variables),
        capture_output=True,
        text=True,
        timeout=300,
    )
    uploaded = reports / RUN_ID / "gate.json"
    assert uploaded.exists(), proc.stdout + proc.stderr
    return proc.returncode, json.loads(uploaded.read_text()), tmp


def test_the_gate_task_uploads_its_report_and_keeps_no_snapshot(lake, tmp_path, soda_python):
    code, report, tmp = run_task(soda_python, lake["env"], tmp_path)
    assert (code, report["outcome"]) == (0, "pass")
    assert (tmp_path / "reports" / RUN_ID / "gate.md").exists()
    # Nothing for a `soda scan` that can never come: no DuckDB file, no installed extension.
    kept = [p.relative_to(tmp) for p in tmp.rglob("*") if "duckdb" in p.name]
    assert kept == []


def test_arguments_given_to_the_task_reach_the_gate(lake, tmp_path, soda_python):
    code, report, _ = run_task(soda_python, lake["env"], tmp_path, "--memory-limit", "lots")
    assert (code, report["outcome"]) == (3, "error")
    assert "is not a memory size" in report["errors"][0]
