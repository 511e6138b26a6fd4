"""The DuckDB snapshot `soda scan` reads is replaced atomically, only by a complete one.

A snapshot is a DuckDB file of views over Parquet copies in ``lakehouse.duckdb.data/``;
nothing else may be left behind (no temporary files, no data of old snapshots beyond
the previous one, which readers of the previous file may still be using).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import lake_env, process_env, write_env_file
from tests.test_gate import run_gate

PREVIOUS = b"the previous snapshot, still being read by someone"


def snapshot_dir(project: Path) -> Path:
    return project / ".soda" / "zzfixture"


def seed_previous(project: Path) -> Path:
    path = snapshot_dir(project) / "lakehouse.duckdb"
    path.parent.mkdir(parents=True)
    path.write_bytes(PREVIOUS)
    return path


def rows_in(soda_python: str, path: Path) -> dict[str, int]:
    """Row count of every table or view of the DuckDB file, read as `soda scan` would."""
    probe = (
        "import duckdb, json, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
        "names = sorted(r[0] for r in c.execute('SHOW TABLES').fetchall()); "
        "print(json.dumps({n: c.execute(f'SELECT count(*) FROM \"{n}\"').fetchone()[0] "
        "for n in names}))"
    )
    proc = subprocess.run(
        [soda_python, "-c", probe, str(path)], capture_output=True, text=True, check=True
    )
    return json.loads(proc.stdout)


def tables_in(soda_python: str, path: Path) -> list[str]:
    return sorted(rows_in(soda_python, path))


def leftovers(project: Path) -> set[str]:
    """Everything in the environment's .soda directory, data directories by kind."""
    found = set()
    for entry in snapshot_dir(project).iterdir():
        if entry.name == "lakehouse.duckdb.data":
            found |= {
                "data/current" if p.name == "current" else "data/<snapshot>"
                for p in entry.iterdir()
            }
        else:
            found.add(entry.name)
    return found


def snapshot_dirs(project: Path) -> int:
    return sum(p.is_dir() for p in (snapshot_dir(project) / "lakehouse.duckdb.data").iterdir())


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
    code, report, _ = run_gate(soda_python, lake["env"], tmp_path)
    assert (code, report["outcome"]) == (0, "pass")
    rows = {t["name"]: t["row_count"] for t in report["tables"]}
    assert rows_in(soda_python, previous) == rows
    assert leftovers(project) == {
        "lakehouse.duckdb",
        "data/current",
        "data/<snapshot>",
        "gate-passing.json",
    }


def test_only_the_previous_snapshot_keeps_its_data(lake, tmp_path, soda_python):
    """Readers that opened the previous file can still query it; older data goes."""
    project = tmp_path / "project"
    run_gate(soda_python, lake["env"], tmp_path)
    snapshot = snapshot_dir(project) / "lakehouse.duckdb"
    held = tmp_path / "held.duckdb"
    held.write_bytes(snapshot.read_bytes())  # what a reader of the first file sees
    run_gate(soda_python, lake["env"], tmp_path)
    assert snapshot_dirs(project) == 2
    assert rows_in(soda_python, held)["event_stream"] == 300
    run_gate(soda_python, lake["env"], tmp_path)
    assert snapshot_dirs(project) == 2
    assert rows_in(soda_python, snapshot)["event_stream"] == 300


def test_two_gates_of_one_environment_run_at_once(lake, tmp_path, soda_python):
    project = tmp_path / "project"
    write_env_file(project, lake["env"])
    gates = []
    for i in (1, 2):
        out = tmp_path / f"gate{i}.json"
        command = [soda_python, "-m", "lakehouse.quality.gate", "--env", "zzfixture"]
        command += ["--project-dir", str(project), "--out", str(out)]
        gates.append((out, subprocess.Popen(command, cwd=tmp_path, env=process_env())))
    for out, proc in gates:
        assert proc.wait(timeout=300) == 0
        assert json.loads(out.read_text())["outcome"] == "pass"
    snapshot = snapshot_dir(project) / "lakehouse.duckdb"
    assert tables_in(soda_python, snapshot) == ["customer_dim", "customer_features", "event_stream"]
    assert rows_in(soda_python, snapshot)["event_stream"] == 300
    assert leftovers(project) == {
        "lakehouse.duckdb",
        "data/current",
        "data/<snapshot>",
        "gate-passing.json",
    }
    assert snapshot_dirs(project) == 2  # the other gate's snapshot is the previous one


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
    code, report, markdown = run_gate(soda_python, lake["env"], tmp_path, "--memory-limit", "1MiB")
    assert (code, report["outcome"]) == (0, "pass"), markdown
    assert "checks ran again with 2 MiB for DuckDB" in markdown


def test_a_memory_limit_that_is_no_size_is_a_usage_error(lake, tmp_path, soda_python):
    code, report, _ = run_gate(soda_python, lake["env"], tmp_path, "--memory-limit", "lots")
    assert code == 3
    assert "is not a memory size" in report["errors"][0]
