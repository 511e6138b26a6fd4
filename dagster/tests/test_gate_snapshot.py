"""The DuckDB snapshot `soda scan` reads is replaced atomically, only by a complete one."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import lake_env, process_env, write_env_file
from tests.test_gate import run_gate

PREVIOUS = b"the previous snapshot, still being read by someone"


def snapshot_dir(project: Path) -> Path:
    return project / ".soda" / "test"


def seed_previous(project: Path) -> Path:
    path = snapshot_dir(project) / "lakehouse.duckdb"
    path.parent.mkdir(parents=True)
    path.write_bytes(PREVIOUS)
    return path


def tables_in(soda_python: str, path: Path) -> list[str]:
    probe = (
        "import duckdb, json, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
        "print(json.dumps(sorted(r[0] for r in c.execute('SHOW TABLES').fetchall())))"
    )
    proc = subprocess.run(
        [soda_python, "-c", probe, str(path)], capture_output=True, text=True, check=True
    )
    return json.loads(proc.stdout)


def test_a_failing_gate_keeps_the_previous_snapshot(tmp_path, soda_python):
    """An empty catalog (no tables): error, and the old snapshot is untouched."""
    project = tmp_path / "project"
    previous = seed_previous(project)
    code, report, _ = run_gate(soda_python, lake_env(tmp_path / "empty-lake"), tmp_path)
    assert (code, report["outcome"]) == (3, "error")
    assert previous.read_bytes() == PREVIOUS
    assert [p.name for p in snapshot_dir(project).iterdir()] == ["lakehouse.duckdb"]


def test_a_complete_gate_swaps_in_the_new_snapshot(lake, tmp_path, soda_python):
    project = tmp_path / "project"
    previous = seed_previous(project)
    code, report, _ = run_gate(soda_python, lake["env"], tmp_path)
    assert (code, report["outcome"]) == (0, "pass")
    assert tables_in(soda_python, previous) == [
        "customer_dim",
        "customer_features",
        "event_stream",
    ]
    assert [p.name for p in snapshot_dir(project).iterdir()] == ["lakehouse.duckdb"]


def test_two_gates_of_one_environment_run_at_once(lake, tmp_path, soda_python):
    project = tmp_path / "project"
    write_env_file(project, lake["env"])
    gates = []
    for i in (1, 2):
        out = tmp_path / f"gate{i}.json"
        command = [soda_python, "-m", "lakehouse.quality.gate", "--env", "test"]
        command += ["--project-dir", str(project), "--out", str(out)]
        gates.append((out, subprocess.Popen(command, cwd=tmp_path, env=process_env())))
    for out, proc in gates:
        assert proc.wait(timeout=300) == 0
        assert json.loads(out.read_text())["outcome"] == "pass"
    snapshot = snapshot_dir(project) / "lakehouse.duckdb"
    assert tables_in(soda_python, snapshot) == ["customer_dim", "customer_features", "event_stream"]
    assert [p.name for p in snapshot_dir(project).iterdir()] == ["lakehouse.duckdb"]


def test_materialize_only_keeps_the_previous_snapshot_on_failure(tmp_path, soda_python):
    project = tmp_path / "project"
    previous = seed_previous(project)
    write_env_file(project, lake_env(tmp_path / "empty-lake"))
    proc = subprocess.run(
        [
            *(soda_python, "-m", "lakehouse.quality.gate", "--env", "test"),
            *("--project-dir", str(project), "--materialize-only"),
        ],
        cwd=tmp_path,
        env=process_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 3
    assert previous.read_bytes() == PREVIOUS
    assert [p.name for p in snapshot_dir(project).iterdir()] == ["lakehouse.duckdb"]
