"""The DuckDB file `soda scan` reads is replaced atomically, only by a complete one.

A snapshot is a DuckDB file of views over the tables where they lie (no data), with the
extensions those views need in ``duckdb_extensions/`` beside it; nothing else may be
left behind, not even by a gate that was killed mid-run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import lake_env, process_env, write_env_file
from tests.test_gate import run_gate
from tests.test_gate_reading import query_snapshot

PREVIOUS = b"the previous snapshot, still being read by someone"
PUBLISHED = {"lakehouse.duckdb", "duckdb_extensions", "gate-passing.json"}


def snapshot_dir(project: Path) -> Path:
    return project / ".soda" / "zzfixture"


def seed_previous(project: Path) -> Path:
    path = snapshot_dir(project) / "lakehouse.duckdb"
    path.parent.mkdir(parents=True)
    path.write_bytes(PREVIOUS)
    return path


def rows_in(soda_python: str, path: Path, env: dict[str, str] | None = None) -> dict[str, int]:
    """Row count of every view of the snapshot, opened as `soda scan` opens it (with
    ``env`` exported)."""
    (names,) = query_snapshot(soda_python, path, {"names": "SHOW TABLES"}, env).values()
    queries = {name: f'SELECT count(*) FROM "{name}"' for (name,) in names}
    counted = query_snapshot(soda_python, path, queries, env)
    return {name: rows[0][0] for name, rows in counted.items()}


def tables_in(soda_python: str, path: Path) -> list[str]:
    return sorted(rows_in(soda_python, path))


def leftovers(project: Path) -> set[str]:
    """Everything in the environment's .soda directory."""
    return {entry.name for entry in snapshot_dir(project).iterdir()}


def gate_command(soda_python: str, project: Path, out: Path) -> list[str]:
    command = [soda_python, "-m", "lakehouse.quality.gate", "--env", "zzfixture"]
    return [*command, "--project-dir", str(project), "--out", str(out)]


def test_a_failing_gate_keeps_the_previous_snapshot(tmp_path, soda_python):
    """An empty catalog (no tables): error, and the old snapshot is untouched."""
    project = tmp_path / "project"
    previous = seed_previous(project)
    code, report, _ = run_gate(soda_python, lake_env(tmp_path / "empty-lake"), tmp_path)
    assert (code, report["outcome"]) == (3, "error")
    assert previous.read_bytes() == PREVIOUS
    assert leftovers(project) == {"lakehouse.duckdb"}


def test_a_complete_gate_swaps_in_the_new_snapshot(lake, tmp_path, soda_python):
    project = tmp_path / "project"
    previous = seed_previous(project)
    data = snapshot_dir(project) / "lakehouse.duckdb.data" / "0123abcd"
    data.mkdir(parents=True)  # the Parquet copies of a gate before views
    code, report, _ = run_gate(soda_python, lake["env"], tmp_path)
    assert (code, report["outcome"]) == (0, "pass")
    rows = {t["name"]: t["row_count"] for t in report["tables"]}
    assert rows_in(soda_python, previous) == rows
    assert leftovers(project) == PUBLISHED
    size = (snapshot_dir(project) / "lakehouse.duckdb").stat().st_size
    assert size < 2**20, "the snapshot holds views, not a copy of the data"


def test_two_gates_of_one_environment_run_at_once(lake, tmp_path, soda_python):
    project = tmp_path / "project"
    write_env_file(project, lake["env"])
    gates = []
    for i in (1, 2):
        out = tmp_path / f"gate{i}.json"
        command = gate_command(soda_python, project, out)
        gates.append((out, subprocess.Popen(command, cwd=tmp_path, env=process_env())))
    for out, proc in gates:
        assert proc.wait(timeout=300) == 0
        assert json.loads(out.read_text())["outcome"] == "pass"
    snapshot = snapshot_dir(project) / "lakehouse.duckdb"
    assert tables_in(soda_python, snapshot) == ["customer_dim", "customer_features", "event_stream"]
    assert rows_in(soda_python, snapshot)["event_stream"] == 300
    assert leftovers(project) == PUBLISHED


def test_a_killed_gate_leaves_nothing_behind_for_good(lake, tmp_path, soda_python):
    """SIGKILL mid-run leaves its temporary file; the next gate removes it, and only it."""
    project = tmp_path / "project"
    write_env_file(project, lake["env"])
    run_gate(soda_python, lake["env"], tmp_path)  # a published snapshot to keep
    published = (snapshot_dir(project) / "lakehouse.duckdb").read_bytes()
    gate = subprocess.Popen(
        gate_command(soda_python, project, tmp_path / "killed.json"),
        cwd=tmp_path,
        env=process_env(),
    )
    deadline = time.monotonic() + 120
    while not any(n.endswith(".tmp") for n in leftovers(project)):
        assert gate.poll() is None and time.monotonic() < deadline, "the gate never started"
        time.sleep(0.02)
    os.kill(gate.pid, signal.SIGKILL)
    gate.wait(timeout=60)
    partial = leftovers(project) - PUBLISHED
    assert any(n.endswith(".tmp") for n in partial) and any(n.endswith(".lock") for n in partial)
    assert (snapshot_dir(project) / "lakehouse.duckdb").read_bytes() == published

    # A running gate's files are not touched: this test holds a lock like a gate does.
    import fcntl

    running = snapshot_dir(project) / ".lakehouse.duckdb.00c0ffee.lock"
    held = os.open(running, os.O_RDWR | os.O_CREAT)
    fcntl.flock(held, fcntl.LOCK_EX)
    other = snapshot_dir(project) / ".lakehouse.duckdb.00c0ffee.tmp"
    other.write_bytes(b"another gate's snapshot in progress")
    try:
        code, _, _ = run_gate(soda_python, lake["env"], tmp_path)
        assert code == 0
        assert leftovers(project) == PUBLISHED | {running.name, other.name}
    finally:
        os.close(held)
    code, _, _ = run_gate(soda_python, lake["env"], tmp_path)
    assert leftovers(project) == PUBLISHED


def test_a_killed_gate_that_keeps_nothing_leaves_nothing_behind_for_good(
    lake, tmp_path, soda_python
):
    """`--duckdb-path :memory:` spills under $TMPDIR, locked by the same rule."""
    project = tmp_path / "project"
    write_env_file(project, lake["env"])
    (tmp_path / "tmp").mkdir()
    scratch = tmp_path / "tmp" / f"lakehouse-gate-{os.getuid()}"
    env = process_env(TMPDIR=str(tmp_path / "tmp"))

    def gate(out: str) -> list[str]:
        return [*gate_command(soda_python, project, tmp_path / out), "--duckdb-path", ":memory:"]

    killed = subprocess.Popen(gate("killed.json"), cwd=tmp_path, env=env)
    deadline = time.monotonic() + 120
    while not (scratch.is_dir() and any(p.suffix == ".lock" for p in scratch.iterdir())):
        assert killed.poll() is None and time.monotonic() < deadline, "the gate never started"
        time.sleep(0.02)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(timeout=60)
    assert any(p.suffix == ".lock" for p in scratch.iterdir())
    done = subprocess.run(gate("done.json"), cwd=tmp_path, env=env, timeout=300)
    assert done.returncode == 0
    assert sorted(scratch.iterdir()) == []
    assert not snapshot_dir(project).exists() or leftovers(project) == {"gate-passing.json"}


def test_materialize_only_keeps_the_previous_snapshot_on_failure(tmp_path, soda_python):
    project = tmp_path / "project"
    previous = seed_previous(project)
    write_env_file(project, lake_env(tmp_path / "empty-lake"))
    proc = subprocess.run(
        [
            *(soda_python, "-m", "lakehouse.quality.gate", "--env", "zzfixture"),
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
    assert leftovers(project) == {"lakehouse.duckdb"}


def test_checks_that_run_out_of_memory_run_again_with_more(lake, tmp_path, soda_python):
    """DuckDB's memory is limited (so it stays flat); a check that needs more gets it."""
    code, report, markdown = run_gate(soda_python, lake["env"], tmp_path, "--memory-limit", "2MiB")
    assert (code, report["outcome"]) == (0, "pass"), markdown
    assert "checks ran again with 4 MiB for DuckDB" in markdown


@pytest.mark.parametrize(
    ("value", "expected"), [("lots", "is not a memory size"), ("1MiB", "is too small")]
)
def test_a_memory_limit_that_is_no_usable_size_is_a_usage_error(
    lake, tmp_path, soda_python, value, expected
):
    code, report, _ = run_gate(soda_python, lake["env"], tmp_path, "--memory-limit", value)
    assert code == 3
    assert expected in report["errors"][0]
